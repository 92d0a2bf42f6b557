//! Opt-in (`--write-config-back`) write-back of an updated config to the `--config` file, for
//! command-line users: a rotated OAuth refresh token is single-use, and outside Airbyte nobody
//! else stores the CONTROL message's new config. The file is replaced atomically (a temp file in
//! the same directory, fsync, rename, fsync of the directory) and keeps its permissions.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::Error;

/// Where updated configs go. Cheap to clone; one per run.
#[derive(Debug, Clone)]
pub struct ConfigWriteBack {
    path: PathBuf,
}

impl ConfigWriteBack {
    /// Writes back to `path` (the `--config` argument); a symlink is followed, so its target is
    /// replaced and the link kept.
    pub fn new(path: &Path) -> Self {
        let path = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        Self { path }
    }

    /// The file that is replaced.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the file with `config` (pretty JSON). On failure the old file is untouched and
    /// the error says where the new tokens still are.
    pub fn write(&self, config: &Value) -> Result<(), Error> {
        let mut text = serde_json::to_vec_pretty(config)
            .map_err(|e| Error::Internal(format!("cannot serialize the updated config: {e}")))?;
        text.push(b'\n');
        replace_atomically(&self.path, &text).map_err(|e| {
            Error::Config(format!(
                "Could not write the updated config back to {}: {e}. The new OAuth tokens are in \
                 the CONTROL message on stdout (`connectorConfig.config`); save it as the config \
                 file before the next run, since the old refresh token no longer works.",
                self.path.display()
            ))
        })
    }
}

/// Writes `bytes` to a new file beside `path` with `path`'s permissions, syncs it, renames it over
/// `path` and syncs the directory. The temp file is removed if anything fails before the rename.
pub fn replace_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    let permissions = fs::metadata(path)?.permissions();
    let (tmp_path, mut tmp) = create_temp(&dir, name)?;
    let written = (|| {
        tmp.write_all(bytes)?;
        fs::set_permissions(&tmp_path, permissions)?; // the umask may have narrowed them
        tmp.sync_all()?;
        drop(tmp);
        fs::rename(&tmp_path, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp_path);
        return Err(e);
    }
    // Makes the rename itself durable; not every platform can open a directory.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A new file `.NAME.tmp-PID-N` in `dir`, created exclusively and readable by the owner only
/// until its final permissions are set.
fn create_temp(dir: &Path, name: &std::ffi::OsStr) -> io::Result<(PathBuf, File)> {
    let mut last = None;
    for n in 0..100u32 {
        let mut file_name = std::ffi::OsString::from(".");
        file_name.push(name);
        file_name.push(format!(".tmp-{}-{n}", std::process::id()));
        let tmp_path = dir.join(file_name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&tmp_path) {
            Ok(f) => return Ok((tmp_path, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temp file name")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect()
    }

    #[test]
    fn replaces_the_config_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs::write(&path, r#"{"credentials":{"refresh_token":"old"}}"#).unwrap();
        let wb = ConfigWriteBack::new(&path);
        let new = json!({"subdomain": "acme", "credentials": {"refresh_token": "new-rt"}});
        wb.write(&new).unwrap();
        let back: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back, new);
        assert!(leftovers(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_file_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o600, 0o640, 0o644] {
            let path = dir.path().join(format!("config-{mode:o}.json"));
            fs::write(&path, "{}").unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            ConfigWriteBack::new(&path).write(&json!({"a": 1})).unwrap();
            let got = fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
            assert_eq!(got, mode, "{mode:o}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn follows_a_symlink_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.json");
        let link = dir.path().join("config.json");
        fs::write(&target, "{}").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        ConfigWriteBack::new(&link).write(&json!({"b": 2})).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(fs::read_to_string(&target).unwrap().contains("\"b\": 2"));
    }

    #[test]
    fn a_missing_file_is_an_error_that_points_to_the_control_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.json");
        let err = ConfigWriteBack::new(&path)
            .write(&json!({"credentials": {"refresh_token": "secret-rt-1"}}))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("gone.json") && err.contains("CONTROL"),
            "{err}"
        );
        assert!(!err.contains("secret-rt-1"), "{err}");
        assert!(!path.exists());
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn a_failed_rename_removes_the_temp_file_and_keeps_the_target() {
        // A directory in the config's place: the temp file is written, the rename fails (even
        // for root), and nothing is left behind.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("keep"), "x").unwrap();
        assert!(replace_atomically(&path, b"{}").is_err());
        assert!(leftovers(dir.path()).is_empty());
        assert_eq!(fs::read_to_string(path.join("keep")).unwrap(), "x");
    }
}
