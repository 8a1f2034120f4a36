//! CloudWatch Logs Insights: the query language, run on DataFusion.
