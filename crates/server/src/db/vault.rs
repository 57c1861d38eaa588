//! Secrets at rest (issue 18): every secret the database keeps (merchants'
//! response keys, webhook secrets and passwords, gateway credentials, the
//! client-token key) is stored sealed with AES-256-GCM under a data key;
//! the data keys are stored sealed under the operator's master key
//! (envelope encryption). A sealed value names its data key
//! (`v1:<data key id>:<base64 nonce‖ciphertext‖tag>`), and a data key the
//! master key it is sealed with, so the master key is rotated by resealing
//! the data keys alone (`kassa rotate-master-key`).
//!
//! The master key comes from `KASSA_MASTER_KEY` (64 hex digits) or a key
//! file (`--master-key-file`, `KASSA_MASTER_KEY_FILE`; for an SQLite
//! database by default `master.key` beside it; PostgreSQL needs one named),
//! created with 32 random bytes, mode 0600, if it is missing.

use super::DbError;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use zeroize::Zeroize;

/// The operator's master key.
pub struct MasterKey([u8; 32]);

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id())
    }
}

fn error(msg: impl Into<String>) -> DbError {
    DbError::Other(sqlx::Error::Protocol(msg.into()))
}

impl MasterKey {
    /// From 64 hex digits.
    pub fn from_hex(s: &str) -> Result<MasterKey, String> {
        let mut bytes = hex::decode(s.trim()).map_err(|_| "the master key must be 64 hex digits".to_string())?;
        let key: Result<[u8; 32], _> = bytes.as_slice().try_into();
        bytes.zeroize();
        key.map(MasterKey).map_err(|_| "the master key must be 64 hex digits (32 bytes)".to_string())
    }

    /// A new random key.
    pub fn generate() -> MasterKey {
        MasterKey(rand::random())
    }

    /// The key in `path`, created (32 random bytes, hex, mode 0600, its directory 0700) if missing.
    pub fn load_or_create(path: &Path) -> Result<MasterKey, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => return MasterKey::from_hex(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read the master key {}: {e}", path.display())),
        }
        let key = MasterKey::generate();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        // Written aside, then linked into place: a concurrent starter reads a whole key or writes its own.
        let tmp = path.with_extension(format!("tmp{}", crate::random_id("")));
        write_private(&tmp, hex::encode(key.0).as_bytes()).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(key),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => MasterKey::load_or_create(path),
            Err(e) => Err(format!("cannot create the master key {}: {e}", path.display())),
        }
    }

    /// The key for the database at `url`: `KASSA_MASTER_KEY`, else the key file
    /// (`file`, else `KASSA_MASTER_KEY_FILE`, else, for SQLite only, `master.key`
    /// beside the database), created if missing when `create` allows it.
    /// PostgreSQL needs a key named explicitly: a default file would be made
    /// anew wherever the server happens to start (a container's throwaway
    /// disk), and the secrets sealed under the first one lost.
    pub fn resolve_with(url: &str, file: Option<&Path>, create: bool) -> Result<MasterKey, String> {
        if let Ok(hex) = std::env::var("KASSA_MASTER_KEY") {
            return MasterKey::from_hex(&hex).map_err(|e| format!("KASSA_MASTER_KEY: {e}"));
        }
        let path = match (file, std::env::var_os("KASSA_MASTER_KEY_FILE"), default_key_file(url)) {
            (Some(f), _, _) => f.to_path_buf(),
            (None, Some(f), _) => PathBuf::from(f),
            (None, None, Some(d)) => d,
            (None, None, None) => {
                return Err("a PostgreSQL database needs its master key named: KASSA_MASTER_KEY (64 hex digits), or --master-key-file / KASSA_MASTER_KEY_FILE".into());
            }
        };
        if create {
            MasterKey::load_or_create(&path)
        } else {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read the master key {}: {e}", path.display()))?;
            MasterKey::from_hex(&text).map_err(|e| format!("{}: {e}", path.display()))
        }
    }

    /// [`MasterKey::resolve_with`], creating a missing key file.
    pub fn resolve(url: &str, file: Option<&Path>) -> Result<MasterKey, String> {
        MasterKey::resolve_with(url, file, true)
    }

    /// A short public name of this key: which key sealed a data key.
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"kassa master key id\0");
        h.update(self.0);
        hex::encode(&h.finalize()[..8])
    }

    fn aead(&self) -> LessSafeKey {
        // A 32-byte key always makes an AES-256 key.
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.0).unwrap_or_else(|_| unreachable_key()))
    }
}

#[allow(clippy::panic)]
fn unreachable_key() -> UnboundKey {
    panic!("a 32-byte AES-256 key was refused")
}

/// `master.key` beside an SQLite database; none for PostgreSQL (its key is named explicitly).
pub fn default_key_file(url: &str) -> Option<PathBuf> {
    let sqlite = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = sqlite.split('?').next().unwrap_or(sqlite);
    Some(Path::new(path).parent().map_or_else(|| PathBuf::from("master.key"), |d| d.join("master.key")))
}

/// Creates `dir` (and its parents) with mode 0700 for what this creates.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Writes a new file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)?.write_all(bytes)
}

/// Creates an empty file readable by its owner only, if there is none.
pub fn private_file(path: &Path) -> std::io::Result<()> {
    match write_private(path, b"") {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

fn seal(key: &LessSafeKey, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let nonce_bytes: [u8; NONCE_LEN] = rand::random();
    let mut out = plaintext.to_vec();
    // Sealing in place cannot fail for inputs below GCM's 64 GiB limit.
    if key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce_bytes), Aad::from(aad), &mut out).is_err() {
        out.clear();
    }
    let mut sealed = nonce_bytes.to_vec();
    sealed.extend_from_slice(&out);
    out.zeroize();
    sealed
}

fn open(key: &LessSafeKey, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    let (nonce, ct) = sealed.split_at_checked(NONCE_LEN)?;
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buf = ct.to_vec();
    let plain = key.open_in_place(nonce, Aad::from(aad), &mut buf).ok()?.to_vec();
    buf.zeroize();
    Some(plain)
}

/// A data key sealed under a master key, as the `data_keys` table keeps it.
pub struct WrappedKey {
    /// Its id.
    pub id: String,
    /// The master key's id.
    pub master_id: String,
    /// base64(nonce ‖ sealed key ‖ tag), with the data key id as associated data.
    pub wrapped: String,
}

/// The id of a database's first data key: the same for every instance that
/// starts on a fresh database at once, so only one of their keys is kept.
pub const FIRST_DATA_KEY: &str = "dk_first";

/// Seals a new data key `id` under `master`.
pub fn new_data_key(master: &MasterKey, id: &str) -> WrappedKey {
    let mut raw: [u8; 32] = rand::random();
    let id = id.to_string();
    let wrapped = STANDARD.encode(seal(&master.aead(), id.as_bytes(), &raw));
    raw.zeroize();
    WrappedKey { id, master_id: master.id(), wrapped }
}

/// Reseals `w` from `old` to `new` (master key rotation).
pub fn rewrap(w: &WrappedKey, old: &MasterKey, new: &MasterKey) -> Result<WrappedKey, DbError> {
    let mut raw = unwrap_raw(w, old)?;
    let wrapped = STANDARD.encode(seal(&new.aead(), w.id.as_bytes(), &raw));
    raw.zeroize();
    Ok(WrappedKey { id: w.id.clone(), master_id: new.id(), wrapped })
}

fn unwrap_raw(w: &WrappedKey, master: &MasterKey) -> Result<Vec<u8>, DbError> {
    if w.master_id != master.id() {
        return Err(error(format!(
            "the database's secrets are sealed with master key {}, not this one ({}): give that key (KASSA_MASTER_KEY or --master-key-file)",
            w.master_id,
            master.id()
        )));
    }
    let sealed = STANDARD.decode(&w.wrapped).map_err(|_| error("a data key is not valid base64"))?;
    open(&master.aead(), w.id.as_bytes(), &sealed).ok_or_else(|| error("a data key does not open with the master key"))
}

/// The open data keys of a database: seals new values with the newest, opens values of any.
pub struct Vault {
    current: String,
    keys: HashMap<String, LessSafeKey>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vault({} data keys, sealing with {})", self.keys.len(), self.current)
    }
}

/// The prefix of a sealed value.
const SEALED: &str = "v1:";

impl Vault {
    /// A vault with no key, before the data keys are read (opens only plain values, seals nothing usable).
    pub(crate) fn empty() -> Vault {
        Vault { current: String::new(), keys: HashMap::new() }
    }

    /// Opens the data keys `wrapped` (newest last) with `master`.
    pub fn open(master: &MasterKey, wrapped: &[WrappedKey]) -> Result<Vault, DbError> {
        let mut keys = HashMap::new();
        for w in wrapped {
            let mut raw = unwrap_raw(w, master)?;
            let key = UnboundKey::new(&AES_256_GCM, &raw).map_err(|_| error("a data key is not 32 bytes"))?;
            raw.zeroize();
            keys.insert(w.id.clone(), LessSafeKey::new(key));
        }
        let current = wrapped.last().map(|w| w.id.clone()).ok_or_else(|| error("no data key"))?;
        Ok(Vault { current, keys })
    }

    /// `plaintext` sealed for storage.
    pub fn seal(&self, plaintext: &str) -> String {
        let Some(key) = self.keys.get(&self.current) else {
            // Only before the data keys are read (never after `Db::open`): nothing is stored then.
            return String::new();
        };
        format!("{SEALED}{}:{}", self.current, STANDARD.encode(seal(key, self.current.as_bytes(), plaintext.as_bytes())))
    }

    /// A stored value opened. A value stored before secrets were sealed (no
    /// prefix) is returned as it is; it is sealed at the next start.
    pub fn open_value(&self, stored: &str) -> Result<String, DbError> {
        let Some(rest) = stored.strip_prefix(SEALED) else { return Ok(stored.to_string()) };
        let (id, b64) = rest.split_once(':').ok_or_else(|| error("a sealed value is malformed"))?;
        let key = self.keys.get(id).ok_or_else(|| error(format!("a value is sealed with an unknown data key {id}")))?;
        let sealed = STANDARD.decode(b64).map_err(|_| error("a sealed value is not valid base64"))?;
        let plain = open(key, id.as_bytes(), &sealed).ok_or_else(|| error("a sealed value does not open (tampered, or another key)"))?;
        String::from_utf8(plain).map_err(|_| error("a sealed value is not text"))
    }

    /// Whether a stored value is sealed already.
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_do_not_open_with_another_key_or_when_changed() {
        let master = MasterKey::generate();
        let w = new_data_key(&master, FIRST_DATA_KEY);
        let vault = Vault::open(&master, std::slice::from_ref(&w)).expect("opens");
        let sealed = vault.seal("krk_response_key_secret");
        assert!(sealed.starts_with("v1:dk_first:") && !sealed.contains("krk_response"), "{sealed}");
        assert_ne!(sealed, vault.seal("krk_response_key_secret"), "a fresh nonce each time");
        assert_eq!(vault.open_value(&sealed).expect("opens"), "krk_response_key_secret");
        assert_eq!(vault.open_value("legacy plaintext").expect("as it is"), "legacy plaintext");
        // One flipped bit of the ciphertext: refused, never a different value.
        let (head, b64) = sealed.rsplit_once(':').expect("sealed shape");
        let mut bytes = STANDARD.decode(b64).expect("base64");
        bytes[NONCE_LEN] ^= 1;
        assert!(vault.open_value(&format!("{head}:{}", STANDARD.encode(&bytes))).is_err());
        // Another master key opens nothing; a rotated wrap opens with the new key only.
        let other = MasterKey::generate();
        assert!(Vault::open(&other, std::slice::from_ref(&w)).is_err());
        let rotated = rewrap(&w, &master, &other).expect("rewraps");
        let reopened = Vault::open(&other, &[rotated]).expect("opens with the new key");
        assert_eq!(reopened.open_value(&sealed).expect("the same data key"), "krk_response_key_secret");
    }

    #[test]
    fn key_files_are_created_private_and_read_back() {
        let dir = std::env::temp_dir().join(crate::random_id("kassa-vault-"));
        let path = dir.join("sub/master.key");
        let a = MasterKey::load_or_create(&path).expect("created");
        let b = MasterKey::load_or_create(&path).expect("read");
        assert_eq!(a.id(), b.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).expect("file").permissions().mode() & 0o777, 0o600);
            assert_eq!(std::fs::metadata(path.parent().expect("dir")).expect("dir").permissions().mode() & 0o777, 0o700);
        }
        assert!(MasterKey::from_hex("abcd").is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
