//! Files the user points acr-health at (`--ca-file`, `SSL_CERT_FILE`, az's
//! configuration, a federated token file): read only when they are regular
//! files, and only up to a size no real one reaches, so that a FIFO, a
//! device such as `/dev/zero` or a huge file is a clear error instead of a
//! hang or unbounded memory.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Larger than any certificate bundle or configuration file in use.
pub(crate) const MAX_INPUT: u64 = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub(crate) enum InputError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a regular file")]
    NotRegular { path: PathBuf },
    #[error("{path} is larger than {} MiB", MAX_INPUT / (1024 * 1024))]
    TooLarge { path: PathBuf },
}

impl InputError {
    pub(crate) fn is_not_found(&self) -> bool {
        let not_found = std::io::ErrorKind::NotFound;
        matches!(self, InputError::Io { source, .. } if source.kind() == not_found)
    }
}

/// Opens without blocking (opening a FIFO for reading would wait for a
/// writer), then checks what was opened.
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// The whole content of the regular file at `path`.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, InputError> {
    let io = |source| InputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(InputError::NotRegular {
            path: path.to_path_buf(),
        });
    }
    if meta.len() > MAX_INPUT {
        return Err(InputError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    let mut data = Vec::new();
    // The file may grow while it is read: the cap holds whatever its size said.
    file.take(MAX_INPUT + 1)
        .read_to_end(&mut data)
        .map_err(io)?;
    if data.len() as u64 > MAX_INPUT {
        return Err(InputError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(data)
}

/// That `path` (a link followed) is a regular file within the size
/// acr-health reads, without opening it; a folder or a dangling link passes
/// (for the folders another reader walks, such as `SSL_CERT_DIR`).
pub(crate) fn check_size(path: &Path) -> Result<(), InputError> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let path = path.to_path_buf();
    match meta {
        m if m.is_dir() => Ok(()),
        m if !m.is_file() => Err(InputError::NotRegular { path }),
        m if m.len() > MAX_INPUT => Err(InputError::TooLarge { path }),
        _ => Ok(()),
    }
}

/// Like [`read`], but a file that does not exist is `None`.
pub(crate) fn read_if_present(path: &Path) -> Result<Option<Vec<u8>>, InputError> {
    match read(path) {
        Ok(data) => Ok(Some(data)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read(dir.path()),
            Err(InputError::NotRegular { .. }) | Err(InputError::Io { .. })
        ));
        #[cfg(unix)]
        assert!(matches!(
            read(Path::new("/dev/zero")),
            Err(InputError::NotRegular { .. })
        ));
        let f = dir.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        assert_eq!(read(&f).unwrap(), b"x");
        assert!(read_if_present(&dir.path().join("missing"))
            .unwrap()
            .is_none());
    }
}
