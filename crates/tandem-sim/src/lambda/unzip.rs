//! Unpacks a Lambda deployment package (a zip of stored or deflated
//! entries, what every packager writes) into a directory, keeping the Unix
//! mode bits so `bootstrap` stays executable.
//! The format: PKWARE APPNOTE.TXT, sections 4.3.7 (local header), 4.3.12
//! (central directory header), 4.3.16 (end of central directory).

use std::io::Read;
use std::path::{Component, Path};

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Unpacks `zip` into `dir`. Refuses entries that would land outside `dir`.
pub fn unzip(zip: &[u8], dir: &Path) -> Result<usize, String> {
    let bad = |m: &str| format!("the deployment package is not a valid zip: {m}");
    // The end-of-central-directory record: the last PK\x05\x06.
    let eocd = (0..zip.len().saturating_sub(21))
        .rev()
        .find(|&i| zip[i..].starts_with(b"PK\x05\x06"))
        .ok_or_else(|| bad("no end of central directory"))?;
    let entries = u16_at(zip, eocd + 10).ok_or_else(|| bad("truncated"))? as usize;
    let mut at = u32_at(zip, eocd + 16).ok_or_else(|| bad("truncated"))? as usize;
    let mut written = 0;
    for _ in 0..entries {
        if !zip.get(at..).is_some_and(|s| s.starts_with(b"PK\x01\x02")) {
            return Err(bad("central directory entry expected"));
        }
        let method = u16_at(zip, at + 10).ok_or_else(|| bad("truncated"))?;
        let compressed = u32_at(zip, at + 20).ok_or_else(|| bad("truncated"))? as usize;
        let size = u32_at(zip, at + 24).ok_or_else(|| bad("truncated"))? as usize;
        let name_len = u16_at(zip, at + 28).ok_or_else(|| bad("truncated"))? as usize;
        let extra_len = u16_at(zip, at + 30).ok_or_else(|| bad("truncated"))? as usize;
        let comment_len = u16_at(zip, at + 32).ok_or_else(|| bad("truncated"))? as usize;
        let attrs = u32_at(zip, at + 38).ok_or_else(|| bad("truncated"))?;
        let local = u32_at(zip, at + 42).ok_or_else(|| bad("truncated"))? as usize;
        let name = zip.get(at + 46..at + 46 + name_len).ok_or_else(|| bad("truncated name"))?;
        let name = String::from_utf8_lossy(name).into_owned();
        at += 46 + name_len + extra_len + comment_len;

        let rel = Path::new(&name);
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(format!("the deployment package has an entry outside its root: {name}"));
        }
        let target = dir.join(rel);
        if name.ends_with('/') {
            std::fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
            continue;
        }
        if !zip.get(local..).is_some_and(|s| s.starts_with(b"PK\x03\x04")) {
            return Err(bad("local header expected"));
        }
        let lname = u16_at(zip, local + 26).ok_or_else(|| bad("truncated"))? as usize;
        let lextra = u16_at(zip, local + 28).ok_or_else(|| bad("truncated"))? as usize;
        let start = local + 30 + lname + lextra;
        let data = zip.get(start..start + compressed).ok_or_else(|| bad("truncated data"))?;
        let bytes = match method {
            0 => data.to_vec(),
            8 => {
                let mut out = Vec::with_capacity(size);
                flate2::read::DeflateDecoder::new(data).read_to_end(&mut out).map_err(|e| bad(&format!("{name}: {e}")))?;
                out
            }
            m => {
                return Err(format!(
                    "the deployment package uses compression method {m} for {name}; only stored and deflated entries are read"
                ))
            }
        };
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&target, &bytes).map_err(|e| format!("{}: {e}", target.display()))?;
        // The Unix mode is in the high 16 bits of the external attributes
        // when the entry was made on Unix; `bootstrap` must be executable
        // whatever the packager recorded, as Lambda requires it to be.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = (attrs >> 16) & 0o777;
            let mode = if name == "bootstrap" || mode & 0o100 != 0 { 0o755 } else { 0o644 };
            let _ = std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode));
        }
        written += 1;
    }
    Ok(written)
}
