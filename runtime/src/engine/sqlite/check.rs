//! What a file must be before an engine writes to it: empty, or weft's,
//! and undamaged. Everything here only reads.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode};

use super::{APPLICATION_ID, FORMAT_VERSION};

/// Why a SQLite file was not opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Another engine owns the file, in this process or another.
    #[error(
        "{} is already in use by another engine: one engine at a time owns a database file, \
         whichever path reaches it",
        path.display()
    )]
    InUse {
        /// The path asked for.
        path: PathBuf,
    },
    /// The file is neither empty nor weft's; it was left as it was.
    #[error(
        "{} is not a weft database ({reason}); weft opens only an empty file or one it wrote, \
         and left this one as it was",
        path.display()
    )]
    NotWeft {
        /// The path asked for.
        path: PathBuf,
        /// What the file holds instead.
        reason: String,
    },
    /// The file was written by a newer weft.
    #[error(
        "{} has format version {version}, newer than this weft supports ({FORMAT_VERSION}); \
         upgrade weft to open it",
        path.display()
    )]
    Newer {
        /// The path asked for.
        path: PathBuf,
        /// The file's format version.
        version: u32,
    },
    /// SQLite found damage in the file; nothing was written to it.
    #[error(
        "{} is damaged and was not opened ({check}: {report}); copy what can still be read \
         into a new file with `sqlite3 {} .recover | sqlite3 recovered.db`, check and open \
         that one (the book's \"When a database file is damaged\" says more)",
        path.display(),
        path.display()
    )]
    Damaged {
        /// The path asked for.
        path: PathBuf,
        /// The check that found it (`quick_check`, `integrity_check`, or
        /// `reading the schema`).
        check: &'static str,
        /// What SQLite reported (its first lines).
        report: String,
    },
    /// A read-only open met a write that a stopped process left unfinished
    /// (a hot rollback journal, or a write-ahead log that needs recovery).
    #[error(
        "{} needs recovery before it can be read: a process stopped while writing it, and a \
         read-only open cannot finish or undo that write; open it once with \
         SqliteStore::open (as an engine does), which recovers it, then read it",
        path.display()
    )]
    NeedsRecovery {
        /// The path asked for.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The file could not be opened, created or locked.
    #[error("cannot open {}", path.display())]
    Io {
        /// The file that could not be opened (the lock file, where there is one).
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("{}: {action}", path.display())]
    Sqlite {
        /// The path asked for.
        path: PathBuf,
        /// What was being done ("setting WAL journal mode", ...).
        action: &'static str,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
}

impl OpenError {
    pub(super) fn sqlite(path: &Path, action: &'static str) -> impl Fn(rusqlite::Error) -> Self {
        move |source| OpenError::Sqlite {
            path: path.to_path_buf(),
            action,
            source,
        }
    }
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// No schema and no format version: a new file.
    Empty,
    /// A weft file of this format version (an older one carries no
    /// application id yet).
    Weft { version: u32, has_id: bool },
}

/// Reads what the file at `path` holds through `conn`, refusing a file
/// that is not weft's, or is of a newer format.
pub(super) fn classify(conn: &Connection, path: &Path) -> Result<Kind, OpenError> {
    let read = |e: rusqlite::Error| read_error(path, "reading the schema", e);
    let application_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(read)?;
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(read)?;
    let mut stmt = conn
        .prepare("SELECT type, name FROM sqlite_schema ORDER BY rowid")
        .map_err(read)?;
    let objects = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(read)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read)?;
    let tables: Vec<&str> = objects
        .iter()
        .filter(|(kind, _)| kind == "table")
        .map(|(_, name)| name.as_str())
        .collect();
    let weft_tables = tables.contains(&"executions") && tables.contains(&"events");
    let weft = application_id == APPLICATION_ID || (application_id == 0 && weft_tables);
    if weft && version > FORMAT_VERSION {
        return Err(OpenError::Newer {
            path: path.to_path_buf(),
            version,
        });
    }
    if application_id == APPLICATION_ID || (weft && version >= 1) {
        return Ok(Kind::Weft {
            version,
            has_id: application_id == APPLICATION_ID,
        });
    }
    if application_id == 0 && version == 0 && objects.is_empty() {
        return Ok(Kind::Empty);
    }
    let reason = if application_id != 0 {
        format!("its application id is {application_id:#010x}, weft's is {APPLICATION_ID:#010x}")
    } else if weft_tables {
        "it has weft's tables but no format version; if it is a copy of a weft file (made \
         with `.dump`, say), set `PRAGMA user_version` to the original's"
            .to_string()
    } else if tables.is_empty() {
        format!("no tables, but format version {version}")
    } else {
        let mut names = tables
            .iter()
            .take(5)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if tables.len() > 5 {
            names.push_str(", ...");
        }
        format!("it holds tables of its own ({names}) and format version {version}")
    };
    Err(OpenError::NotWeft {
        path: path.to_path_buf(),
        reason,
    })
}

/// A read error, told apart: damage, a file that is not SQLite, a write
/// left for recovery (read-only opens only), or another failure.
pub(super) fn read_error(path: &Path, action: &'static str, e: rusqlite::Error) -> OpenError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => OpenError::NotWeft {
            path: path.to_path_buf(),
            reason: "not a SQLite database".into(),
        },
        Some(ErrorCode::DatabaseCorrupt) => OpenError::Damaged {
            path: path.to_path_buf(),
            check: action,
            report: e.to_string(),
        },
        Some(ErrorCode::ReadOnly) => OpenError::NeedsRecovery {
            path: path.to_path_buf(),
            source: e,
        },
        _ => OpenError::Sqlite {
            path: path.to_path_buf(),
            action,
            source: e,
        },
    }
}

/// How [`SqliteStore::open_with_check`](super::SqliteStore::open_with_check)
/// checks a file for damage before an engine uses it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum IntegrityCheck {
    /// SQLite's `quick_check` (the default): the structure of every page,
    /// which a torn write or a page overwritten with other data breaks.
    /// (SQLite keeps no checksums: a byte changed inside a row's data goes
    /// unseen.) It reads the whole file: about 0.2 s per 100 MB from the
    /// page cache, up to 0.5 s from disk.
    #[default]
    Quick,
    /// SQLite's `integrity_check`: `quick_check`, and that every index
    /// matches its table. Somewhat longer (0.2 to 0.3 s per 100 MB).
    Full,
    /// None: damage shows when the data on a damaged page is read, as an
    /// error of that read.
    Skip,
}

/// Lines of a check's report kept in the error.
const REPORT_LINES: usize = 5;

/// Runs `check` on the file; an error names the damage.
pub(super) fn check_integrity(
    conn: &Connection,
    path: &Path,
    check: IntegrityCheck,
    database: Option<&File>,
) -> Result<(), OpenError> {
    let (pragma, name) = match check {
        IntegrityCheck::Skip => return Ok(()),
        IntegrityCheck::Quick => ("PRAGMA quick_check", "quick_check"),
        IntegrityCheck::Full => ("PRAGMA integrity_check", "integrity_check"),
    };
    if let Some(file) = database {
        warm_page_cache(file);
    }
    let read = |e| read_error(path, name, e);
    let mut stmt = conn.prepare(pragma).map_err(read)?;
    let lines = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(read)?
        .take(REPORT_LINES + 1)
        .collect::<Result<Vec<_>, _>>()
        .map_err(read)?;
    if lines.len() == 1 && lines[0] == "ok" {
        return Ok(());
    }
    let mut report = lines
        .iter()
        .take(REPORT_LINES)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if lines.len() > REPORT_LINES {
        report.push_str("; ...");
    }
    Err(OpenError::Damaged {
        path: path.to_path_buf(),
        check: name,
        report,
    })
}

/// Reads the file once from start to end. SQLite's check reads it page by
/// page in b-tree order, which defeats the kernel's read-ahead: from disk,
/// a 100 MB file took 2.7 s to check, and 0.2 to 0.5 s read this way first.
/// It reads through the descriptor the lock holds open: closing another
/// one would drop SQLite's POSIX locks on the file (see `lock`). Only a
/// speed-up: a failure here is left for the check to meet.
#[cfg(unix)]
fn warm_page_cache(file: &File) {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; 1 << 20];
    let mut offset = 0u64;
    while let Ok(n @ 1..) = file.read_at(&mut buf, offset) {
        offset += n as u64;
    }
}

#[cfg(not(unix))]
fn warm_page_cache(_: &File) {}

/// A URI that opens the file at `path` as immutable: read-only, without
/// locks, and without creating anything beside it. `None` for a path that
/// is not UTF-8.
pub(super) fn immutable_uri(path: &Path) -> Option<String> {
    let text = path.to_str()?;
    let mut uri = String::from("file:");
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(char::from(byte))
            }
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri.push_str("?immutable=1");
    Some(uri)
}
