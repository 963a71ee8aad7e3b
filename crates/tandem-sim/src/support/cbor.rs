//! The CBOR writer (Smithy RPC v2 CBOR bodies: CloudWatch's answers and the
//! errors of any call made in that protocol).

use ciborium::Value as Cbor;

pub fn encode(v: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = ciborium::ser::into_writer(v, &mut out);
    out
}
