//! CloudWatch metrics: data points and alarms, kept in the catalog.
