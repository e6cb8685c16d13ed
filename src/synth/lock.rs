//! One lock per assembly directory, so concurrent synths, bundles and deploys that write the
//! same assembly take turns instead of losing `assets/` or leaving staging directories.
//!
//! The lock is `flock(2)` on `.<dir>.lock` beside the directory (the directory itself is
//! swapped by rename, so it cannot hold the lock). The file is removed on release: a waiter
//! that wakes holding a file that was removed meanwhile tries again, so two processes never
//! both believe they hold the lock.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Held while an assembly directory is written; released (and its file removed) on drop.
///
/// ```no_run
/// let _lock = ordersctl::synth::lock::AssemblyLock::acquire("ordersctl.out".as_ref())?;
/// // ... write ordersctl.out ...
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct AssemblyLock {
    file: File,
    path: PathBuf,
}

/// The real assembly directory: through a symlink, where it points (that is where the
/// staging and the swap happen, so that is what the lock must guard); `.` or `..` (synth run
/// inside an assembly) as the named directory it is.
pub fn real_dir(dir: &Path) -> io::Result<PathBuf> {
    if fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink())
        || (dir.file_name().is_none() && dir.exists())
    {
        fs::canonicalize(dir)
    } else {
        Ok(dir.to_path_buf())
    }
}

/// The directory an assembly directory lives in (`.` for a bare name).
pub fn parent_of(dir: &Path) -> &Path {
    dir.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The assembly directory's file name, used to name its siblings (lock, staging).
pub fn base_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ordersctl.out".into())
}

impl AssemblyLock {
    /// Wait for, and take, the lock on the assembly directory `dir`.
    pub fn acquire(dir: &Path) -> io::Result<AssemblyLock> {
        let dir = real_dir(dir)?;
        let parent = parent_of(&dir);
        fs::create_dir_all(parent)?;
        let path = parent.join(format!(".{}.lock", base_name(&dir)));
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?;
            // SAFETY: flock on a descriptor this function owns; no memory is shared.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
                return Err(io::Error::last_os_error());
            }
            let held = file.metadata()?;
            match fs::metadata(&path) {
                Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => {
                    return Ok(AssemblyLock { file, path });
                }
                // The previous holder removed the file while we waited: take a fresh one.
                _ => continue,
            }
        }
    }
}

impl Drop for AssemblyLock {
    fn drop(&mut self) {
        // Remove first, then unlock (closing the file): see the module comment.
        let _ = fs::remove_file(&self.path);
        // SAFETY: as in acquire.
        unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_UN) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn holders_take_turns_and_leave_no_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("asm");
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (dir, inside) = (dir.clone(), inside.clone());
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        let _l = AssemblyLock::acquire(&dir).unwrap();
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                        std::thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(
            fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "lock file left"
        );
    }
}
