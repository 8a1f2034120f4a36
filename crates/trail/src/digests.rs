//! Digest delivery: every digest interval, for each region of a validated trail, one
//! signed digest listing the log files delivered since the previous one and chained to it.

use store::trail::DigestLink;

use crate::deliver::{Delivery, now_millis};
use crate::digest::{self, DigestInput, LogFileEntry, PreviousDigest};
use crate::trails::Trail;

/// Writes the trail's due digests.
pub(crate) async fn deliver(d: &Delivery, trail: &Trail) -> Result<(), String> {
    let arn = trail.arn();
    let store = d.store();
    let mut regions = vec![trail.home_region.clone()];
    if trail.is_multi_region {
        for r in store.trail_file_regions(&arn).await.map_err(|e| e.to_string())? {
            if !regions.contains(&r) {
                regions.push(r);
            }
        }
    }
    let interval = d.digest_interval().as_millis() as i64;
    for region in regions {
        let now = now_millis();
        let last = store.last_trail_digest(&arn, &region).await.map_err(|e| e.to_string())?;
        let start = match &last {
            Some(l) => l.end_time,
            None => trail.started_at.unwrap_or(now),
        };
        // Digest keys carry whole seconds: each period ends at a new second.
        let end = now - now.rem_euclid(1000);
        if end - start < interval || end <= start {
            continue;
        }
        let files = store.undigested_trail_files(&arn, &region).await.map_err(|e| e.to_string())?;
        let listed: Vec<_> = files.iter().filter(|f| f.delivered_at <= end).collect();
        let input = DigestInput {
            account_id: trail.account_id.clone(),
            region: region.clone(),
            trail_name: trail.name.clone(),
            home_region: trail.home_region.clone(),
            bucket: trail.s3_bucket.clone(),
            prefix: trail.s3_key_prefix.clone(),
            start_time: start,
            end_time: end,
            log_files: listed
                .iter()
                .map(|f| LogFileEntry {
                    bucket: f.bucket.clone(),
                    key: f.key.clone(),
                    sha256: f.sha256.clone(),
                    oldest_event_time: f.oldest_event,
                    newest_event_time: f.newest_event,
                })
                .collect(),
            previous: last.map(|l| PreviousDigest { bucket: l.bucket, key: l.key, sha256: l.sha256, signature: l.signature }),
        };
        let signed = digest::build(&input, &d.signing_keys().current());
        d.buckets().put(&trail.s3_bucket, &signed.key, signed.gzip.clone(), &signed.metadata).await?;
        let link = DigestLink {
            bucket: trail.s3_bucket.clone(),
            key: signed.key.clone(),
            sha256: signed.sha256.clone(),
            signature: signed.signature.clone(),
            end_time: end,
        };
        let keys: Vec<String> = listed.iter().map(|f| f.key.clone()).collect();
        store.commit_trail_digest(&arn, &region, &link, &keys).await.map_err(|e| e.to_string())?;
        let _ = store.set_trail_status(&arn, "digest", now_millis(), None).await;
        metrics::counter!("trailwatch_trail_digests_delivered_total").increment(1);
    }
    Ok(())
}
