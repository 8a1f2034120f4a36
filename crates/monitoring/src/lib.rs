//! CloudWatch metrics and alarms.
