//! The wallet file: one SQLite database per wallet holding BDK's tables and ours.
//!
//! BDK persists its [`ChangeSet`] (public descriptors, local chain, transaction graph, derivation
//! indexes) in its own tables. BDK never stores private keys, so the private descriptors live in
//! our table `mpx_keys`; the wallet's flags and (for a wallet without descriptors) its last
//! processed block in `mpx_wallet`; comments of sent transactions in `mpx_tx_notes`; address labels
//! in `mpx_labels`; imported descriptors (`importdescriptors`, private keys included) in
//! `mpx_imports`. Creation writes all of them in one SQLite transaction, and so does every later
//! change: a crash leaves either the old state or the new one.
//!
//! Versions: a file is written as schema 1 until it holds an import (or the placeholder keychains
//! a wallet without descriptors gets for its imports), then as 2, so that an older build (which
//! knows only 1, would not see the imported coins and would take placeholders for real keys)
//! refuses it instead of showing a wrong balance or handing out unspendable addresses. This build reads both; `mpx_imports` is created when missing.
//!
//! The file is created `0600` (it holds private keys) and opened in SQLite's exclusive locking
//! mode, so a second process cannot open a loaded wallet (Bitcoin Core does the same). Journal mode
//! is WAL with `synchronous=FULL`: a commit is on disk when it returns.

use std::collections::{BTreeMap, HashMap};
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use bdk_wallet::chain::Merge;
use bdk_wallet::rusqlite::{self, params, Connection, OptionalExtension};
use bdk_wallet::ChangeSet;
use bitcoin::hashes::Hash;
use bitcoin::{BlockHash, Txid};

use crate::imports::ImportRecord;

/// The newest schema version this build reads, in `mpx_wallet.version`.
const SCHEMA_VERSION: i64 = 2;

/// The version of a file without imports (older builds read it).
const VERSION_WITHOUT_IMPORTS: i64 = 1;

/// What can go wrong with the wallet file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(
        "SQLiteDatabase: Unable to obtain an exclusive lock on the database, is it being used by \
         another instance of mpx-node?"
    )]
    Locked,
    #[error("{0}")]
    Corrupt(String),
}

impl From<StoreError> for interfaces::Error {
    fn from(e: StoreError) -> Self {
        interfaces::Error::failed(e.to_string())
    }
}

/// Wallet-wide flags, fixed at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flags {
    /// Whether the wallet holds private keys (`createwallet`'s `disable_private_keys` negated).
    pub(crate) private_keys_enabled: bool,
    /// Created blank (no descriptors).
    pub(crate) blank: bool,
    /// Creation time, seconds since the UNIX epoch.
    pub(crate) birthtime: i64,
}

/// The private descriptors of the two keychains.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PrivateDescriptors {
    pub(crate) external: String,
    pub(crate) internal: String,
}

impl std::fmt::Debug for PrivateDescriptors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateDescriptors(..)")
    }
}

/// What the wallet keeps about a transaction beyond BDK's graph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TxNote {
    /// `sendtoaddress`'s `comment`.
    pub(crate) comment: String,
    /// `sendtoaddress`'s `comment_to`.
    pub(crate) comment_to: String,
}

/// Everything read back from a wallet file.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) flags: Flags,
    pub(crate) descriptors: Option<PrivateDescriptors>,
    /// The last processed block of a wallet without descriptors (BDK keeps its own otherwise).
    pub(crate) tip: Option<(u32, BlockHash)>,
    pub(crate) changeset: ChangeSet,
    pub(crate) notes: HashMap<Txid, TxNote>,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) imports: Vec<ImportRecord>,
}

/// Changes to write in one transaction.
#[derive(Debug, Default)]
pub(crate) struct Changes<'a> {
    pub(crate) bdk: Option<&'a ChangeSet>,
    pub(crate) tip: Option<(u32, BlockHash)>,
    pub(crate) notes: Vec<(Txid, TxNote)>,
    pub(crate) labels: Vec<(String, String)>,
    /// Imports added or changed.
    pub(crate) imports: Vec<ImportRecord>,
    /// The two keychains' descriptors, set once (a wallet without descriptors given a BDK wallet
    /// for its imports).
    pub(crate) descriptors: Option<&'a PrivateDescriptors>,
}

impl Changes<'_> {
    fn is_empty(&self) -> bool {
        self.bdk.is_none_or(|c| c.is_empty())
            && self.tip.is_none()
            && self.notes.is_empty()
            && self.labels.is_empty()
            && self.imports.is_empty()
            && self.descriptors.is_none()
    }
}

/// An open wallet file, locked for this process.
#[derive(Debug)]
pub(crate) struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Creates the file at `path` (which must not exist) with `flags`, the private `descriptors`
    /// (`None` for a wallet without keys) and BDK's initial `changeset`, all in one transaction,
    /// and opens it.
    ///
    /// `path` appears complete or not at all, even if the process is killed midway: the file is
    /// made under a temporary name in the same directory ([`crate::names::temp_path`]), committed,
    /// closed (rollback journal, so the file stands alone) and fsynced, then linked to `path` (which
    /// fails if `path` exists, so no wallet is ever replaced) and the directory fsynced. A killed
    /// creation leaves only a temporary file, which listings ignore and
    /// [`remove_stale_temp_files`] deletes.
    pub(crate) fn create(
        path: &Path,
        flags: Flags,
        descriptors: Option<&PrivateDescriptors>,
        changeset: Option<&ChangeSet>,
        tip: Option<(u32, BlockHash)>,
    ) -> Result<Store, StoreError> {
        if path.exists() {
            return Err(StoreError::Io(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} already exists", path.display()),
            )));
        }
        let tmp = crate::names::temp_path(path);
        let made = (|| {
            // create_new: a name no one else uses; 0600: the file holds private keys.
            OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
            let store = Store::initialize(&tmp, flags, descriptors, changeset, tip)?;
            // Fold the WAL into the file so that it alone is the wallet, then close it.
            let _mode: String = store.conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
            drop(store);
            std::fs::File::open(&tmp)?.sync_all()?;
            publish(&tmp, path)
        })();
        remove_with_journals(&tmp);
        made?;
        if let Some(dir) = path.parent() {
            crate::names::sync_dir(dir);
        }
        Store::open(path)
    }

    fn initialize(
        path: &Path,
        flags: Flags,
        descriptors: Option<&PrivateDescriptors>,
        changeset: Option<&ChangeSet>,
        tip: Option<(u32, BlockHash)>,
    ) -> Result<Store, StoreError> {
        let mut store = Store::open(path)?;
        let tx = store.conn.transaction()?;
        init_tables(&tx)?;
        let existing: i64 = tx.query_row("SELECT COUNT(*) FROM mpx_wallet", [], |r| r.get(0))?;
        if existing != 0 {
            return Err(StoreError::Corrupt(format!("{} already holds a wallet", path.display())));
        }
        tx.execute(
            "INSERT INTO mpx_wallet (id, version, private_keys_enabled, blank, birthtime) \
             VALUES (0, ?1, ?2, ?3, ?4)",
            params![VERSION_WITHOUT_IMPORTS, flags.private_keys_enabled, flags.blank, flags.birthtime],
        )?;
        if let Some(d) = descriptors {
            tx.execute("INSERT INTO mpx_keys (keychain, descriptor) VALUES (0, ?1)", params![d.external])?;
            tx.execute("INSERT INTO mpx_keys (keychain, descriptor) VALUES (1, ?1)", params![d.internal])?;
        }
        write_changes(&tx, &Changes { bdk: changeset, tip, ..Default::default() })?;
        tx.commit()?;
        Ok(store)
    }

    /// Opens the existing file at `path` and takes its exclusive lock.
    pub(crate) fn open(path: &Path) -> Result<Store, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} does not exist", path.display()),
            )));
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_millis(0))?;
        let _mode: String = conn.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |r| r.get(0))?;
        // Take the lock now rather than at the first write.
        match conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;") {
            Ok(()) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                return Err(StoreError::Locked)
            }
            Err(e) => return Err(e.into()),
        }
        let _journal: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.execute_batch("PRAGMA synchronous = FULL;")?;
        Ok(Store { conn, path: path.to_path_buf() })
    }

    /// Writes a consistent copy of the wallet to `destination` (SQLite's `VACUUM INTO`: a
    /// complete, compacted database file, made under the wallet's own lock). The destination
    /// must not be the wallet itself.
    pub(crate) fn backup_to(&self, destination: &Path) -> Result<(), StoreError> {
        let same = std::fs::canonicalize(destination).ok() == std::fs::canonicalize(&self.path).ok();
        if same {
            return Err(StoreError::Corrupt(
                "backup failed: the destination is the wallet file itself".into(),
            ));
        }
        if destination.exists() {
            // VACUUM INTO refuses an existing file; bitcoind overwrites it.
            std::fs::remove_file(destination)?;
        }
        let target = destination.to_str().ok_or_else(|| {
            StoreError::Corrupt(format!("backup failed: {} is not a UTF-8 path", destination.display()))
        })?;
        self.conn.execute("VACUUM INTO ?1", [target])?;
        Ok(())
    }

    /// Reads the whole wallet back.
    pub(crate) fn read(&mut self) -> Result<Record, StoreError> {
        let tx = self.conn.transaction()?;
        init_tables(&tx)?;
        let row = tx
            .query_row(
                "SELECT version, private_keys_enabled, blank, birthtime, tip_height, tip_hash \
                 FROM mpx_wallet WHERE id = 0",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, bool>(1)?,
                        r.get::<_, bool>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<u32>>(4)?,
                        r.get::<_, Option<Vec<u8>>>(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((version, private_keys_enabled, blank, birthtime, tip_height, tip_hash)) = row else {
            return Err(StoreError::Corrupt(format!("{} holds no wallet", self.path.display())));
        };
        if version > SCHEMA_VERSION {
            return Err(StoreError::Corrupt(format!(
                "{} was written by a newer version (schema {version})",
                self.path.display()
            )));
        }
        let tip = match (tip_height, tip_hash) {
            (Some(h), Some(bytes)) => Some((h, BlockHash::from_byte_array(to_hash(&bytes)?))),
            _ => None,
        };
        let mut descriptors = BTreeMap::new();
        {
            let mut stmt = tx.prepare("SELECT keychain, descriptor FROM mpx_keys")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (k, d) = row?;
                descriptors.insert(k, d);
            }
        }
        let descriptors = match (descriptors.remove(&0), descriptors.remove(&1)) {
            (Some(external), Some(internal)) => Some(PrivateDescriptors { external, internal }),
            (None, None) => None,
            _ => return Err(StoreError::Corrupt("one of the two private descriptors is missing".into())),
        };
        let mut notes = HashMap::new();
        {
            let mut stmt = tx.prepare("SELECT txid, comment, comment_to FROM mpx_tx_notes")?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })?;
            for row in rows {
                let (txid, comment, comment_to) = row?;
                notes.insert(Txid::from_byte_array(to_hash(&txid)?), TxNote { comment, comment_to });
            }
        }
        let mut labels = BTreeMap::new();
        {
            let mut stmt = tx.prepare("SELECT address, label FROM mpx_labels")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (address, label) = row?;
                labels.insert(address, label);
            }
        }
        let imports = read_imports(&tx)?;
        let changeset = ChangeSet::from_sqlite(&tx)?;
        tx.commit()?;
        Ok(Record {
            flags: Flags { private_keys_enabled, blank, birthtime },
            descriptors,
            tip,
            changeset,
            notes,
            labels,
            imports,
        })
    }

    /// Makes every later write fail (SQLite's `query_only`), as a full disk would.
    #[cfg(test)]
    pub(crate) fn fail_writes(&self, fail: bool) {
        self.conn.pragma_update(None, "query_only", fail).unwrap();
    }

    /// Writes `changes` in one transaction (nothing if they are empty).
    pub(crate) fn persist(&mut self, changes: &Changes<'_>) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        write_changes(&tx, changes)?;
        tx.commit()?;
        Ok(())
    }
}

/// Gives the complete file `tmp` the name `path` unless `path` exists: a hard link (atomic, never
/// replaces), or where the filesystem has no hard links a rename after a check.
fn publish(tmp: &Path, path: &Path) -> Result<(), StoreError> {
    match std::fs::hard_link(tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e.into()),
        Err(_) if !path.exists() => Ok(std::fs::rename(tmp, path)?),
        Err(e) => Err(e.into()),
    }
}

/// Removes `file` and the journal files SQLite may keep next to it (all may be missing).
fn remove_with_journals(file: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// Deletes the temporary files that creations of the wallet file `path` killed midway left in
/// its directory (those of other processes: this one's may be in progress). Call with the
/// wallet's name reserved.
pub(crate) fn remove_stale_temp_files(path: &Path) {
    let (Some(dir), Some(file)) = (path.parent(), path.file_name()) else { return };
    let prefix = format!(".{}.", file.to_string_lossy());
    let ours = format!("{prefix}{}.", std::process::id());
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.contains(".tmp") && !name.starts_with(&ours) {
            tracing::info!(target: "wallet", file = %name, "removing what a killed wallet creation left");
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn to_hash(bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt(format!("a stored hash has {} bytes", bytes.len())))
}

fn init_tables(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    ChangeSet::init_sqlite_tables(tx)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS mpx_wallet (
             id INTEGER PRIMARY KEY CHECK (id = 0),
             version INTEGER NOT NULL,
             private_keys_enabled INTEGER NOT NULL,
             blank INTEGER NOT NULL,
             birthtime INTEGER NOT NULL,
             tip_height INTEGER,
             tip_hash BLOB
         );
         CREATE TABLE IF NOT EXISTS mpx_keys (
             keychain INTEGER PRIMARY KEY,
             descriptor TEXT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS mpx_tx_notes (
             txid BLOB PRIMARY KEY,
             comment TEXT NOT NULL,
             comment_to TEXT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS mpx_labels (
             address TEXT PRIMARY KEY,
             label TEXT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS mpx_imports (
             id INTEGER PRIMARY KEY,
             descriptor TEXT NOT NULL,
             range_start INTEGER NOT NULL,
             range_end INTEGER NOT NULL,
             next_index INTEGER NOT NULL,
             internal INTEGER NOT NULL,
             timestamp INTEGER NOT NULL
         );",
    )?;
    Ok(())
}

fn write_changes(tx: &rusqlite::Transaction<'_>, changes: &Changes<'_>) -> Result<(), StoreError> {
    if let Some(cs) = changes.bdk {
        cs.persist_to_sqlite(tx)?;
    }
    if let Some((height, hash)) = changes.tip {
        tx.execute(
            "UPDATE mpx_wallet SET tip_height = ?1, tip_hash = ?2 WHERE id = 0",
            params![height, hash.to_byte_array().to_vec()],
        )?;
    }
    for (txid, note) in &changes.notes {
        tx.execute(
            "INSERT OR REPLACE INTO mpx_tx_notes (txid, comment, comment_to) VALUES (?1, ?2, ?3)",
            params![txid.to_byte_array().to_vec(), note.comment, note.comment_to],
        )?;
    }
    for (address, label) in &changes.labels {
        tx.execute(
            "INSERT OR REPLACE INTO mpx_labels (address, label) VALUES (?1, ?2)",
            params![address, label],
        )?;
    }
    if let Some(d) = changes.descriptors {
        tx.execute(
            "INSERT OR REPLACE INTO mpx_keys (keychain, descriptor) VALUES (0, ?1)",
            params![d.external],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO mpx_keys (keychain, descriptor) VALUES (1, ?1)",
            params![d.internal],
        )?;
    }
    for r in &changes.imports {
        tx.execute(
            "INSERT OR REPLACE INTO mpx_imports \
             (id, descriptor, range_start, range_end, next_index, internal, timestamp) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![r.id, r.descriptor, r.range.0, r.range.1, r.next_index, r.internal, r.timestamp],
        )?;
    }
    // Imports, or placeholder keychains (which an older build would take for the wallet's own and
    // hand out addresses from): older builds must refuse the file.
    if !changes.imports.is_empty() || changes.descriptors.is_some() {
        tx.execute(
            "UPDATE mpx_wallet SET version = ?1 WHERE id = 0 AND version < ?1",
            params![SCHEMA_VERSION],
        )?;
    }
    Ok(())
}

fn read_imports(tx: &rusqlite::Transaction<'_>) -> Result<Vec<ImportRecord>, StoreError> {
    let mut stmt = tx.prepare(
        "SELECT id, descriptor, range_start, range_end, next_index, internal, timestamp \
         FROM mpx_imports ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(ImportRecord {
            id: r.get(0)?,
            descriptor: r.get(1)?,
            range: (r.get(2)?, r.get(3)?),
            next_index: r.get(4)?,
            internal: r.get(5)?,
            timestamp: r.get(6)?,
        })
    })?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn flags() -> Flags {
        Flags { private_keys_enabled: true, blank: false, birthtime: 1_700_000_000 }
    }

    #[test]
    fn create_read_persist_and_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.sqlite");
        let d = PrivateDescriptors { external: "ext".into(), internal: "int".into() };
        let hash = BlockHash::from_byte_array([3; 32]);
        let mut store = Store::create(&path, flags(), Some(&d), None, Some((0, hash))).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let files: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(files, ["wallet.sqlite"], "no temporary file is left");
        assert!(matches!(Store::create(&path, flags(), None, None, None), Err(StoreError::Io(_))));
        // A second connection (another process, or a second load) cannot take the lock.
        assert!(matches!(Store::open(&path), Err(StoreError::Locked)));

        let txid = Txid::from_byte_array([7; 32]);
        let note = TxNote { comment: "c".into(), comment_to: "t".into() };
        store
            .persist(&Changes {
                tip: Some((5, hash)),
                notes: vec![(txid, note.clone())],
                labels: vec![("bcrt1q".into(), "l".into())],
                ..Default::default()
            })
            .unwrap();
        drop(store);

        let mut store = Store::open(&path).unwrap();
        let record = store.read().unwrap();
        assert_eq!(record.flags, flags());
        assert_eq!(record.descriptors, Some(d));
        assert_eq!(record.tip, Some((5, hash)));
        assert_eq!(record.notes.get(&txid), Some(&note));
        assert_eq!(record.labels.get("bcrt1q").map(String::as_str), Some("l"));
        assert!(record.changeset.is_empty());
    }

    fn version(path: &Path) -> i64 {
        let conn = Connection::open(path).unwrap();
        conn.query_row("SELECT version FROM mpx_wallet WHERE id = 0", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn imports_are_kept_and_raise_the_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.sqlite");
        let d = PrivateDescriptors { external: "ext".into(), internal: "int".into() };
        let mut store = Store::create(&path, flags(), Some(&d), None, None).unwrap();
        drop(store);
        // A file as the previous version wrote it (schema 1, no mpx_imports table).
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("DROP TABLE mpx_imports;").unwrap();
        }
        assert_eq!(version(&path), 1);
        store = Store::open(&path).unwrap();
        assert!(store.read().unwrap().imports.is_empty(), "an old file loads, without imports");
        let record = ImportRecord {
            id: 0,
            descriptor: "combo(cTe1f5rdT8A8DFgVWTjyPwACsDPJM9ff4QngFxUixCSvvbg1x6sh)".into(),
            range: (0, 0),
            next_index: 0,
            internal: false,
            timestamp: 1,
        };
        store.persist(&Changes { imports: vec![record.clone()], ..Default::default() }).unwrap();
        drop(store);
        assert_eq!(version(&path), SCHEMA_VERSION, "older builds must refuse a file with imports");
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.read().unwrap().imports, vec![record]);
    }

    #[test]
    fn stale_temp_files_of_other_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.sqlite");
        let stale = dir.path().join(".wallet.sqlite.999999999.0.tmp");
        let stale_journal = dir.path().join(".wallet.sqlite.999999999.0.tmp-journal");
        let ours = crate::names::temp_path(&path);
        let other = dir.path().join(".settings.json.999999999.0.tmp");
        for f in [&stale, &stale_journal, &ours, &other] {
            std::fs::write(f, b"").unwrap();
        }
        remove_stale_temp_files(&path);
        assert!(!stale.exists() && !stale_journal.exists());
        assert!(ours.exists(), "a creation of this process may be in progress");
        assert!(other.exists(), "not a wallet file's");
    }

    #[test]
    fn missing_and_empty_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.sqlite");
        assert!(matches!(Store::open(&path), Err(StoreError::Io(_))));
        std::fs::write(&path, b"").unwrap();
        let mut store = Store::open(&path).unwrap();
        assert!(matches!(store.read(), Err(StoreError::Corrupt(_))));
    }
}
