//! Metric data through the CloudWatch API: PutMetricData, GetMetricStatistics,
//! GetMetricData, ListMetrics, and their checks.

mod common;

use common::{ACCOUNT, REGION, fixture, minute, now_ms, secs};
use monitoring::{Datum, DatumValue};
use serde_json::{Value, json};
use wire::Service;

fn stats_input(start: i64, end: i64, period: i64) -> Value {
    json!({
        "Namespace": "App", "MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}],
        "StartTime": secs(start), "EndTime": secs(end), "Period": period,
    })
}

fn datapoints(out: &Value) -> Vec<Value> {
    let mut dps = out["Datapoints"].as_array().unwrap().clone();
    dps.sort_by_key(|d| (d["Timestamp"].as_i64().unwrap(), d["Unit"].as_str().unwrap_or_default().to_owned()));
    dps
}

#[tokio::test]
async fn statistics_sum_average_percentiles_and_periods() {
    let f = fixture(&[]).await;
    let t0 = minute(10);
    let values: Vec<f64> = (1..=10).map(f64::from).collect();
    f.ok(
        "PutMetricData",
        json!({"Namespace": "App", "MetricData": [
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}], "Timestamp": secs(t0 + 5_000), "Values": values, "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}], "Timestamp": secs(t0 + 65_000), "Value": 100.0, "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}], "Timestamp": secs(t0 + 70_000),
             "StatisticValues": {"SampleCount": 4.0, "Sum": 20.0, "Minimum": 2.0, "Maximum": 8.0}, "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "b"}], "Timestamp": secs(t0), "Value": 1000.0},
        ]}),
    )
    .await;

    let mut input = stats_input(t0, t0 + 180_000, 60);
    input["Statistics"] = json!(["SampleCount", "Sum", "Average", "Minimum", "Maximum"]);
    let out = f.ok("GetMetricStatistics", input).await;
    assert_eq!(out["Label"], "Latency");
    let dps = datapoints(&out);
    assert_eq!(dps.len(), 2, "{dps:?}");
    assert_eq!(dps[0]["Timestamp"], secs(t0));
    assert_eq!((dps[0]["SampleCount"].as_f64(), dps[0]["Sum"].as_f64(), dps[0]["Average"].as_f64()), (Some(10.0), Some(55.0), Some(5.5)));
    assert_eq!((dps[0]["Minimum"].as_f64(), dps[0]["Maximum"].as_f64()), (Some(1.0), Some(10.0)));
    assert_eq!(dps[0]["Unit"], "Milliseconds");
    assert_eq!((dps[1]["SampleCount"].as_f64(), dps[1]["Sum"].as_f64(), dps[1]["Maximum"].as_f64()), (Some(5.0), Some(120.0), Some(100.0)));

    // A two-minute period merges both minutes.
    let mut input = stats_input(t0, t0 + 180_000, 120);
    input["Statistics"] = json!(["Sum", "SampleCount"]);
    let dps = datapoints(&f.ok("GetMetricStatistics", input).await);
    assert_eq!(dps.len(), 1);
    assert_eq!((dps[0]["Sum"].as_f64(), dps[0]["SampleCount"].as_f64()), (Some(175.0), Some(15.0)));

    // Percentiles need the samples: the first minute has them, the second holds a
    // statistic set of several values, so it has none.
    let mut input = stats_input(t0, t0 + 180_000, 60);
    input["ExtendedStatistics"] = json!(["p50", "p90", "p100"]);
    let dps = datapoints(&f.ok("GetMetricStatistics", input).await);
    assert_eq!(dps[0]["ExtendedStatistics"], json!({"p50": 5.0, "p90": 9.0, "p100": 10.0}));
    assert_eq!(dps[1]["ExtendedStatistics"], json!({}));
}

#[tokio::test]
async fn statistics_by_unit() {
    let f = fixture(&[]).await;
    let t0 = minute(5);
    let datum = |v: f64, unit: &str| json!({"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}], "Timestamp": secs(t0), "Value": v, "Unit": unit});
    f.ok(
        "PutMetricData",
        json!({"Namespace": "App", "MetricData": [datum(1.0, "Seconds"), datum(500.0, "Milliseconds"), datum(2.0, "Seconds")]}),
    )
    .await;
    let mut input = stats_input(t0, t0 + 60_000, 60);
    input["Statistics"] = json!(["Sum"]);
    let dps = datapoints(&f.ok("GetMetricStatistics", input.clone()).await);
    assert_eq!(dps.len(), 2, "one datapoint per unit: {dps:?}");
    assert_eq!((dps[0]["Unit"].as_str(), dps[0]["Sum"].as_f64()), (Some("Milliseconds"), Some(500.0)));
    assert_eq!((dps[1]["Unit"].as_str(), dps[1]["Sum"].as_f64()), (Some("Seconds"), Some(3.0)));
    input["Unit"] = json!("Seconds");
    let dps = datapoints(&f.ok("GetMetricStatistics", input.clone()).await);
    assert_eq!(dps.len(), 1);
    assert_eq!(dps[0]["Sum"], 3.0);
    input["Unit"] = json!("Bytes");
    assert!(datapoints(&f.ok("GetMetricStatistics", input).await).is_empty());
}

#[tokio::test]
async fn high_resolution_data_keeps_seconds() {
    let f = fixture(&[]).await;
    let t0 = minute(3);
    let at = |s: i64, v: f64| json!({"MetricName": "Hits", "Timestamp": secs(t0 + s * 1000), "Value": v, "StorageResolution": 1});
    f.ok("PutMetricData", json!({"Namespace": "App", "MetricData": [at(1, 1.0), at(12, 2.0), at(15, 4.0), at(59, 8.0)]})).await;
    let input = json!({"Namespace": "App", "MetricName": "Hits", "StartTime": secs(t0), "EndTime": secs(t0 + 60_000), "Period": 10, "Statistics": ["Sum"]});
    let dps = datapoints(&f.ok("GetMetricStatistics", input).await);
    let sums: Vec<(i64, f64)> = dps.iter().map(|d| (d["Timestamp"].as_i64().unwrap() - t0 / 1000, d["Sum"].as_f64().unwrap())).collect();
    assert_eq!(sums, vec![(0, 1.0), (10, 6.0), (50, 8.0)]);
}

#[tokio::test]
async fn put_from_log_metric_filters() {
    let f = fixture(&[]).await;
    let t0 = minute(4);
    let datum = |value| Datum {
        namespace: "LogMetrics".into(),
        name: "Errors".into(),
        dimensions: vec![],
        timestamp_ms: t0 + 10_000,
        value,
        unit: Some("Count".into()),
        storage_resolution: 60,
    };
    let set = DatumValue::Set { count: 3.0, sum: 3.0, min: 1.0, max: 1.0 };
    f.mon.put(ACCOUNT, REGION, vec![datum(set.clone()), datum(set)]).await.unwrap();
    let input = json!({"Namespace": "LogMetrics", "MetricName": "Errors", "StartTime": secs(t0), "EndTime": secs(t0 + 60_000), "Period": 60,
                       "Statistics": ["Sum", "SampleCount"]});
    let dps = datapoints(&f.ok("GetMetricStatistics", input).await);
    assert_eq!((dps[0]["Sum"].as_f64(), dps[0]["SampleCount"].as_f64(), dps[0]["Unit"].as_str()), (Some(6.0), Some(6.0), Some("Count")));
    // Sets of one value still give percentiles.
    let input = json!({"Namespace": "LogMetrics", "MetricName": "Errors", "StartTime": secs(t0), "EndTime": secs(t0 + 60_000), "Period": 60,
                       "ExtendedStatistics": ["p99"]});
    assert_eq!(datapoints(&f.ok("GetMetricStatistics", input).await)[0]["ExtendedStatistics"]["p99"], 1.0);
}

#[tokio::test]
async fn metric_data_with_math_order_and_pages() {
    let f = fixture(&[]).await;
    let t0 = minute(10);
    let mut data = Vec::new();
    for i in 0..3 {
        data.push(json!({"MetricName": "Requests", "Dimensions": [{"Name": "Host", "Value": "a"}], "Timestamp": secs(t0 + i * 60_000), "Value": (i + 1) as f64}));
        data.push(json!({"MetricName": "Requests", "Dimensions": [{"Name": "Host", "Value": "b"}], "Timestamp": secs(t0 + i * 60_000), "Value": 10.0}));
    }
    f.ok("PutMetricData", json!({"Namespace": "App", "MetricData": data})).await;
    let stat = |host: &str| json!({"Metric": {"Namespace": "App", "MetricName": "Requests", "Dimensions": [{"Name": "Host", "Value": host}]}, "Period": 60, "Stat": "Sum"});
    let input = json!({
        "StartTime": secs(t0), "EndTime": secs(t0 + 180_000),
        "MetricDataQueries": [
            {"Id": "a", "MetricStat": stat("a")},
            {"Id": "b", "MetricStat": stat("b"), "ReturnData": false},
            {"Id": "total", "Expression": "a + b", "Label": "Total"},
            {"Id": "all", "Expression": "SUM(METRICS())"},
            {"Id": "pct", "Expression": "a * 100 / total"},
        ],
    });
    let out = f.ok("GetMetricData", input.clone()).await;
    let results = out["MetricDataResults"].as_array().unwrap();
    let ids: Vec<&str> = results.iter().map(|r| r["Id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a", "total", "all", "pct"], "ReturnData false is left out");
    assert_eq!(results[0]["Label"], "Requests");
    assert_eq!(results[1]["Label"], "Total");
    assert_eq!(results[2]["Label"], "all");
    // Newest first by default.
    assert_eq!(results[0]["Timestamps"], json!([secs(t0 + 120_000), secs(t0 + 60_000), secs(t0)]));
    assert_eq!(results[0]["Values"], json!([3.0, 2.0, 1.0]));
    assert_eq!(results[1]["Values"], json!([13.0, 12.0, 11.0]));
    assert_eq!(results[2]["Values"], json!([13.0, 12.0, 11.0]));
    assert_eq!(results[3]["Values"][0].as_f64().map(|v| (v * 1000.0).round()), Some((300.0f64 / 13.0 * 1000.0).round()));
    assert!(results.iter().all(|r| r["StatusCode"] == "Complete"));
    assert!(out.get("NextToken").is_none());

    let mut asc = input.clone();
    asc["ScanBy"] = json!("TimestampAscending");
    let out = f.ok("GetMetricData", asc).await;
    assert_eq!(out["MetricDataResults"][0]["Values"], json!([1.0, 2.0, 3.0]));

    // Pages of five datapoints: 12 in all.
    let mut paged = input.clone();
    paged["MaxDatapoints"] = json!(5);
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let out = f.ok("GetMetricData", paged.clone()).await;
        pages += 1;
        let here: usize = out["MetricDataResults"].as_array().unwrap().iter().map(|r| r["Values"].as_array().unwrap().len()).sum();
        assert!(here <= 5);
        seen += here;
        match out.get("NextToken") {
            Some(t) => paged["NextToken"] = t.clone(),
            None => break,
        }
    }
    assert_eq!((seen, pages), (12, 3));
}

#[tokio::test]
async fn list_metrics_filters_and_pages() {
    let f = fixture(&[]).await;
    let now = minute(1);
    let mut data = Vec::new();
    for i in 0..600 {
        data.push(json!({"MetricName": "Disk", "Dimensions": [{"Name": "Volume", "Value": format!("v{i}")}, {"Name": "Host", "Value": "a"}], "Timestamp": secs(now), "Value": 1.0}));
    }
    f.ok("PutMetricData", json!({"Namespace": "Fleet", "MetricData": data[..600].to_vec()})).await;
    f.ok(
        "PutMetricData",
        json!({"Namespace": "App", "MetricData": [
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}], "Value": 1.0},
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "b"}], "Value": 1.0},
            {"MetricName": "Errors", "Value": 1.0},
        ]}),
    )
    .await;

    let out = f.ok("ListMetrics", json!({"Namespace": "App"})).await;
    assert_eq!(out["Metrics"].as_array().unwrap().len(), 3);
    assert!(out.get("NextToken").is_none());
    let out =
        f.ok("ListMetrics", json!({"Namespace": "App", "MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "b"}]})).await;
    assert_eq!(out["Metrics"], json!([{"Namespace": "App", "MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "b"}]}]));
    let out = f.ok("ListMetrics", json!({"Dimensions": [{"Name": "Host"}], "RecentlyActive": "PT3H"})).await;
    assert_eq!(out["Metrics"].as_array().unwrap().len(), 500, "a page holds 500");
    let token = out["NextToken"].clone();
    let out = f.ok("ListMetrics", json!({"Dimensions": [{"Name": "Host"}], "NextToken": token})).await;
    assert_eq!(out["Metrics"].as_array().unwrap().len(), 102);
    assert!(out.get("NextToken").is_none());
    // Dimensions come back in name order.
    let out = f.ok("ListMetrics", json!({"Namespace": "Fleet", "Dimensions": [{"Name": "Volume", "Value": "v7"}]})).await;
    assert_eq!(out["Metrics"][0]["Dimensions"], json!([{"Name": "Host", "Value": "a"}, {"Name": "Volume", "Value": "v7"}]));
    let (code, _) = f.err("ListMetrics", json!({"NextToken": "nonsense"})).await;
    assert_eq!(code, "InvalidParameterValue");
}

#[tokio::test]
async fn put_metric_data_is_checked_as_cloudwatch_checks_it() {
    let f = fixture(&[]).await;
    let put = |datum: Value| json!({"Namespace": "App", "MetricData": [datum]});
    let cases = [
        (
            put(json!({"MetricName": "m", "Value": 1.0, "Values": [1.0]})),
            "InvalidParameterValue",
            "The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually exclusive and you have specified both.",
        ),
        (
            put(
                json!({"MetricName": "m", "Value": 1.0, "StatisticValues": {"SampleCount": 1.0, "Sum": 1.0, "Minimum": 1.0, "Maximum": 1.0}}),
            ),
            "InvalidParameterCombination",
            "The parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues are mutually exclusive and you have specified both.",
        ),
        (
            put(json!({"MetricName": "m", "Values": [1.0, 2.0], "Counts": [1.0]})),
            "InvalidParameterValue",
            "The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be of the same size.",
        ),
        (
            put(json!({"MetricName": "m", "Value": 1.0, "StorageResolution": 30})),
            "InvalidParameterValue",
            "The parameter MetricData.member.1.StorageResolution must be a value in the set [ 1, 60 ].",
        ),
        (
            put(json!({"MetricName": "m", "Value": 1.0, "Timestamp": secs(now_ms() + 3 * 3_600_000)})),
            "InvalidParameterValue",
            "The parameter MetricData.member.1.Timestamp must specify a time no more than two hours in the future.",
        ),
        (
            json!({"Namespace": "AWS/EC2", "MetricData": [{"MetricName": "m", "Value": 1.0}]}),
            "InvalidParameterValue",
            "The value AWS/EC2 for parameter Namespace is invalid.",
        ),
        (json!({"Namespace": "App"}), "MissingParameter", "The parameter MetricData is required."),
    ];
    for (input, code, message) in cases {
        let (c, m) = f.err("PutMetricData", input).await;
        assert_eq!((c.as_str(), m.as_str()), (code, message));
    }
    // Every stale timestamp is reported, one per line.
    let old = secs(now_ms() - 15 * 86_400_000);
    let (code, message) = f
        .err("PutMetricData", json!({"Namespace": "App", "MetricData": [{"MetricName": "m", "Value": 1.0, "Timestamp": old}, {"MetricName": "m", "Value": 1.0, "Timestamp": old}]}))
        .await;
    assert_eq!(code, "InvalidParameterValue");
    assert_eq!(
        message,
        "The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks.\nThe parameter MetricData.member.2.Timestamp must specify a time within the past two weeks."
    );
    // Nothing of a refused request is stored.
    let out = f.ok("ListMetrics", json!({"Namespace": "App"})).await;
    assert_eq!(out["Metrics"], json!([]));
    // The model's own constraints answer ValidationError through the pipeline.
    assert_eq!(f.svc.validation_error_code(), "ValidationError");
    let err = f.svc.model().validate_input("PutMetricData", &json!({"MetricData": []})).unwrap_err();
    assert_eq!(err, "1 validation error detected: Value null at 'Namespace' failed to satisfy constraint: Member must not be null");
}

#[tokio::test]
async fn reads_are_checked_as_cloudwatch_checks_them() {
    let f = fixture(&[]).await;
    let t0 = minute(60);
    let mut input = stats_input(t0, t0 + 2 * 86_400_000, 60);
    input["Statistics"] = json!(["Sum"]);
    let (code, message) = f.err("GetMetricStatistics", input).await;
    assert_eq!(code, "InvalidParameterCombination");
    assert_eq!(
        message,
        "You have requested up to 2880 datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
    );
    let (code, _) = f.err("GetMetricStatistics", stats_input(t0, t0 + 60_000, 60)).await;
    assert_eq!(code, "InvalidParameterCombination");
    let mut input = stats_input(t0, t0 + 60_000, 90);
    input["Statistics"] = json!(["Sum"]);
    assert_eq!(f.err("GetMetricStatistics", input).await.0, "InvalidParameterValue");
    let mut input = stats_input(t0 + 60_000, t0, 60);
    input["Statistics"] = json!(["Sum"]);
    assert_eq!(
        f.err("GetMetricStatistics", input).await,
        ("InvalidParameterValue".into(), "The parameter StartTime must be less than the parameter EndTime.".into())
    );
    let mut input = stats_input(t0, t0 + 60_000, 60);
    input["ExtendedStatistics"] = json!(["p101"]);
    assert_eq!(
        f.err("GetMetricStatistics", input).await,
        ("InvalidParameterValue".into(), "The value p101 for parameter ExtendedStatistics is not supported.".into())
    );

    let query = |expression: &str| {
        json!({"StartTime": secs(t0), "EndTime": secs(t0 + 60_000), "MetricDataQueries": [
            {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "x"}, "Period": 60, "Stat": "Sum"}},
            {"Id": "e1", "Expression": expression},
        ]})
    };
    for bad in ["m1 +", "m2 * 2", "SEARCH('{App} x', 'Sum', 60)", "NOPE(m1)"] {
        let (code, message) = f.err("GetMetricData", query(bad)).await;
        assert_eq!(code, "ValidationError", "{bad}");
        assert!(message.starts_with("Error in expression e1: "), "{message}");
    }
    let (code, message) =
        f.err("GetMetricData", json!({"StartTime": secs(t0), "EndTime": secs(t0 + 60_000), "MetricDataQueries": [{"Id": "m1"}]})).await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ValidationError", "The parameter MetricDataQueries.member.1.MetricStat is required.\n")
    );
    let (code, _) = f
        .err(
            "GetMetricData",
            json!({"StartTime": secs(t0), "EndTime": secs(t0 + 60_000), "MetricDataQueries": [{"Id": "M1", "Expression": "1"}]}),
        )
        .await;
    assert_eq!(code, "ValidationError");
    let mut input = query("m1 * 2");
    input["NextToken"] = json!("bogus");
    assert_eq!(f.err("GetMetricData", input).await.0, "InvalidNextToken");
}
