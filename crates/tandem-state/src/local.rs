//! The local state file and its lock.

use crate::backend::{hostname, Attempt, Backend, LockInfo};
use crate::{parse, State, StateError};
use std::fs::{self, File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The local state file: atomic writes (temp file, fsync, rename, fsync of
/// the directory), the previous version kept as `<file>.backup`, owner-only
/// permissions, and an OS file lock next to it.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    path: PathBuf,
    /// Digest of the bytes last read or written (`Some(None)`: read as absent).
    seen: Arc<Mutex<Option<Option<u64>>>>,
    held: Arc<Mutex<Option<StateLock>>>,
}

fn digest(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

impl LocalBackend {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LocalBackend { path: path.into(), seen: Arc::default(), held: Arc::default() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn backup_path(&self) -> PathBuf {
        with_suffix(&self.path, ".backup")
    }

    pub fn lock_path(&self) -> PathBuf {
        with_suffix(&self.path, ".lock")
    }

    fn at(&self) -> String {
        self.path.display().to_string()
    }

    fn read_bytes(&self) -> Result<Option<Vec<u8>>, StateError> {
        let mut bytes = Vec::new();
        match File::open(&self.path) {
            Ok(mut f) => {
                f.read_to_end(&mut bytes).map_err(|e| StateError::Read { at: self.at(), detail: e.to_string() })?;
                Ok(Some(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::Read { at: self.at(), detail: e.to_string() }),
        }
    }

    /// Read the state; a missing file is an empty state (nothing made yet).
    pub fn load(&self) -> Result<State, StateError> {
        match self.read_bytes()? {
            None => Ok(State::default()),
            Some(b) => parse(&self.at(), &self.restore_hint(), &String::from_utf8_lossy(&b)),
        }
    }

    /// Write `state` atomically, bumping its serial; the previous file becomes the backup.
    pub fn save(&self, state: &mut State) -> Result<(), StateError> {
        state.serial += 1;
        let mut text = serde_json::to_string_pretty(state).expect("state serializes");
        text.push('\n');
        self.write_bytes(text.as_bytes())
    }

    fn write_bytes(&self, bytes: &[u8]) -> Result<(), StateError> {
        let err = |e: std::io::Error| StateError::Write { at: self.at(), detail: e.to_string() };
        let dir = self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(err)?;
        let mut tmp = tempfile::Builder::new().prefix(".tandem-state-").tempfile_in(dir).map_err(err)?;
        set_owner_only(tmp.as_file()).map_err(err)?;
        tmp.write_all(bytes).map_err(err)?;
        tmp.as_file().sync_all().map_err(err)?;
        if self.path.exists() {
            // A copy, not a rename: the live file must exist at every instant.
            fs::copy(&self.path, self.backup_path()).map_err(err)?;
            if let Ok(f) = File::open(self.backup_path()) {
                let _ = set_owner_only(&f);
            }
        }
        tmp.persist(&self.path).map_err(|e| err(e.error))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Take the exclusive lock, failing at once (naming the holder) if another process has it.
    pub fn lock(&self, operation: &str) -> Result<StateLock, StateError> {
        match self.lock_with(&LockInfo::new(operation))? {
            Ok(l) => Ok(l),
            Err(holder) => Err(self.locked(holder)),
        }
    }

    fn locked(&self, holder: Option<LockInfo>) -> StateError {
        StateError::Locked {
            at: self.at(),
            holder: holder.as_ref().map(LockInfo::describe).unwrap_or_else(|| "another tandem process".into()),
            id: holder.map(|h| h.id).filter(|i| !i.is_empty()),
            help: format!(
                "wait for it to finish (`--lock-timeout 5m` waits). The lock ({}) is an OS file lock: it goes when that process ends",
                self.lock_path().display()
            ),
        }
    }

    fn lock_with(&self, info: &LockInfo) -> Result<Result<StateLock, Option<LockInfo>>, StateError> {
        let lock_path = self.lock_path();
        let err = |e: std::io::Error| StateError::Write { at: lock_path.display().to_string(), detail: e.to_string() };
        if let Some(dir) = lock_path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(err)?;
        }
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&lock_path).map_err(err)?;
        // It names the holder (user, host, pid): for the owner only, as the state is.
        set_owner_only(&file).map_err(err)?;
        match fs4::fs_std::FileExt::try_lock_exclusive(&file) {
            Ok(true) => {}
            Ok(false) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Ok(Err(serde_json::from_str::<LockInfo>(&holder).ok()));
            }
            Err(e) => return Err(err(e)),
        }
        file.set_len(0).map_err(err)?;
        file.write_all(serde_json::to_string(info).expect("lock info serializes").as_bytes()).map_err(err)?;
        file.sync_all().map_err(err)?;
        Ok(Ok(StateLock { file }))
    }
}

#[async_trait::async_trait]
impl Backend for LocalBackend {
    fn location(&self) -> String {
        self.at()
    }
    fn remote(&self) -> bool {
        false
    }
    fn restore_hint(&self) -> String {
        format!("Restore it from {}.backup or fix it by hand", self.path.display())
    }
    async fn read(&self) -> Result<Option<Vec<u8>>, StateError> {
        let me = self.clone();
        let bytes = tokio::task::spawn_blocking(move || me.read_bytes())
            .await
            .map_err(|e| StateError::Read { at: self.at(), detail: e.to_string() })??;
        *self.seen.lock().expect("not poisoned") = Some(bytes.as_deref().map(digest));
        Ok(bytes)
    }
    async fn write(&self, bytes: Vec<u8>) -> Result<(), StateError> {
        let me = self.clone();
        let expected = *self.seen.lock().expect("not poisoned");
        let d = digest(&bytes);
        tokio::task::spawn_blocking(move || {
            if let Some(expected) = expected {
                let now = me.read_bytes()?.as_deref().map(digest);
                if now != expected {
                    return Err(StateError::Conflict { at: me.at(), detail: "the file was rewritten by another process".into() });
                }
            }
            me.write_bytes(&bytes)
        })
        .await
        .map_err(|e| StateError::Write { at: self.at(), detail: e.to_string() })??;
        *self.seen.lock().expect("not poisoned") = Some(Some(d));
        Ok(())
    }
    async fn try_lock(&self, info: &LockInfo) -> Result<Attempt, StateError> {
        match self.lock_with(info)? {
            Ok(l) => {
                *self.held.lock().expect("not poisoned") = Some(l);
                Ok(Attempt::Taken)
            }
            Err(holder) => Ok(Attempt::Held(holder)),
        }
    }
    async fn unlock(&self, _info: &LockInfo) -> Result<(), StateError> {
        self.held.lock().expect("not poisoned").take();
        Ok(())
    }
    async fn force_unlock(&self, _id: &str) -> Result<LockInfo, StateError> {
        Err(StateError::Lock(format!(
            "the local state's lock ({}) is an OS file lock, released when the process holding it ends; there is nothing to force. If `tandem` still runs on {}, let it finish or stop it",
            self.lock_path().display(),
            hostname()
        )))
    }
}

/// Held while an operation may write the state; released on drop.
#[derive(Debug)]
pub struct StateLock {
    file: File,
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = fs4::fs_std::FileExt::unlock(&self.file);
    }
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(unix)]
fn set_owner_only(f: &File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_owner_only(_: &File) -> std::io::Result<()> {
    Ok(())
}

/// Writes `bytes` to `path` as the state file is written: a temp file in the
/// same directory, readable by the owner only, synced, renamed over `path`,
/// the directory synced. A crash leaves the old file or the new one, never
/// half of either (plan files hold the same secrets a state does).
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".tandem-write-").tempfile_in(dir)?;
    set_owner_only(tmp.as_file())?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
