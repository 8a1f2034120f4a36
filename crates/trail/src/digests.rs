//! Hourly digests of a trail's log files, signed and chained.

use crate::deliver::Delivery;
use crate::trails::Trail;

/// Writes the trail's due digests.
pub(crate) async fn deliver(_d: &Delivery, _trail: &Trail) -> Result<(), String> {
    Ok(())
}
