//! Safe extraction of an artifact zip into a target directory.
//!
//! Every entry name is checked lexically before anything touches the disk,
//! and every directory on the way to an entry is created one component at a
//! time and refused if it already exists as a symlink, so nothing lands
//! outside the target: not through `..`, absolute or drive-prefixed names,
//! backslash paths, symlinks whose target escapes, nor through a symlink an
//! earlier entry created. Sizes are counted from the bytes actually inflated,
//! not from the headers, so a lying zip bomb is stopped at the limit.
//!
//! Before anything is written, every name is read from the central
//! directory: two entries that name the same path — the same bytes twice
//! (which the `zip` crate folds into one entry, the last one winning), or
//! two spellings such as `a/b` and `./a//b`, or a file that another entry
//! needs as a directory — refuse the whole zip. Names that differ only in
//! case are valid on Linux (download-artifact extracts both) and are
//! reported, both named, since one would replace the other on macOS or
//! Windows.

mod spool;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

pub use spool::SpoolIndex;
pub(crate) use spool::{HeadSplit, Joined};

/// Bounds against zip bombs; both are configurable per run.
#[derive(Debug, Clone, Copy)]
pub struct ExtractLimits {
    pub max_total_bytes: u64,
    pub max_entries: usize,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        // A standard GitHub-hosted runner has 14 GB of SSD. The extracted
        // files and the zips waiting to be extracted are each bounded by
        // `max_total_bytes`, so 6 GiB of each (12.9 GB) fits with room for
        // the job's own files. A deploy bundle beyond 1M files is more
        // likely an attack than a build.
        Self {
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            max_entries: 1_000_000,
        }
    }
}

/// 6 GiB: see [`ExtractLimits::default`].
const DEFAULT_MAX_TOTAL_BYTES: u64 = 6 << 30;

/// What one extraction wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExtractReport {
    pub files: usize,
    pub bytes: u64,
    /// Entries whose paths differ only in case (this zip's, or one of this
    /// zip's and one extracted before it into the same target): both are
    /// on disk, and would collide on a case-insensitive file system.
    pub case_twins: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error(
        "refused zip entry `{entry}`: {reason}\nhint: nothing was extracted past this entry; fix how the artifact is zipped, or set `extract: false` to relay it unopened"
    )]
    Refused { entry: String, reason: &'static str },
    #[error(
        "zip entry `{entry}` collides with `{}` already extracted\nhint: artifacts merged with `merge-multiple` must not share file names", path.display()
    )]
    Collision { entry: String, path: PathBuf },
    #[error(
        "refused zip: entries `{first}` and `{second}` name the same path{}\nhint: nothing was extracted; a zip with two entries for one path is ambiguous (tools disagree on which wins) — rebuild the artifact", if first == second { " (the name is listed twice)" } else { "" }
    )]
    Duplicate { first: String, second: String },
    #[error(
        "artifact expands beyond {limit} bytes at entry `{entry}`; refusing a possible zip bomb\nhint: raise `extract-max-size` if the artifact is really this large"
    )]
    TooLarge { entry: String, limit: u64 },
    #[error(
        "artifact has more than {limit} entries; refusing a possible zip bomb\nhint: raise `extract-max-files` if the artifact really holds this many files"
    )]
    TooManyEntries { limit: usize },
    #[error(
        "artifact is not a readable zip: {0}\nhint: re-run the workflow that built it, or set `extract: false` to relay it unopened"
    )]
    Zip(#[from] zip::result::ZipError),
    #[error(
        "cannot write `{}`: {source}\nhint: check that `path` is writable and the disk has room", path.display()
    )]
    Io { path: PathBuf, source: io::Error },
}

/// Extracts zips into one target; keeps the set of written paths so that a
/// second artifact merged into the same target reports collisions.
#[derive(Debug)]
pub struct Extractor {
    root: PathBuf,
    limits: ExtractLimits,
    written: HashSet<PathBuf>,
    /// Every path extracted so far, lower-cased, with the entry name that
    /// made it: case twins across the zips merged into one target.
    folded: HashMap<String, String>,
    total: u64,
    entries: usize,
}

const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;
const MAX_LINK_TARGET: u64 = 4096;

impl Extractor {
    /// `root` is created if missing.
    pub fn new(root: impl Into<PathBuf>, limits: ExtractLimits) -> Result<Self, ExtractError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|source| ExtractError::Io {
            path: root.clone(),
            source,
        })?;
        Ok(Self {
            root,
            limits,
            written: HashSet::new(),
            folded: HashMap::new(),
            total: 0,
            entries: 0,
        })
    }

    /// Extracts every entry of `zip`; the first refused entry fails the whole
    /// extraction with its name.
    pub fn extract<R: Read + Seek>(&mut self, zip: R) -> Result<ExtractReport, ExtractError> {
        self.extract_into("", zip)
    }

    /// [`Self::extract`] into the subdirectory `sub` of the root (an
    /// artifact's own directory; `""` for the root itself). `sub` is checked
    /// like an entry name, and links may not climb out of it. Limits and
    /// collisions count across every call.
    pub fn extract_into<R: Read + Seek>(
        &mut self,
        sub: &str,
        zip: R,
    ) -> Result<ExtractReport, ExtractError> {
        self.extract_entries(sub, zip, None)
            .map(|(report, _)| report)
    }

    /// [`Self::extract_into`] from a spool written as a relay lays it
    /// out: `index.head` in memory, the rest of the zip in the file at
    /// `spool`. When the first entry is a stored file whose bytes begin the
    /// file, they are not written again: its CRC is checked from the index,
    /// every other entry is extracted, then the spool is cut to that entry's
    /// length and linked into place. The spool is then no longer a zip; the
    /// caller deletes its name as usual.
    pub fn extract_spool(
        &mut self,
        sub: &str,
        index: SpoolIndex,
        spool: &Path,
    ) -> Result<ExtractReport, ExtractError> {
        let io_err = |source| ExtractError::Io {
            path: spool.to_owned(),
            source,
        };
        let file = fs::File::open(spool).map_err(io_err)?;
        let in_place = InPlace {
            file: file.try_clone().map_err(io_err)?,
            index: &index,
        };
        let zip = Joined::new(index.head.clone(), file).map_err(io_err)?;
        let (report, linked) =
            self.extract_entries(sub, io::BufReader::new(zip), Some(in_place))?;
        if let Some(first) = linked {
            first.link(spool)?;
        }
        Ok(report)
    }

    /// Every entry of `zip`. With `in_place` (the zip is a spool), a first
    /// entry stored at the start of the spool file is checked and counted
    /// but not written: it is returned, to be linked from the spool.
    fn extract_entries<R: Read + Seek>(
        &mut self,
        sub: &str,
        zip: R,
        mut in_place: Option<InPlace<'_>>,
    ) -> Result<(ExtractReport, Option<Linked>), ExtractError> {
        let base = safe_components(sub)?;
        if base.is_empty() && !sub.is_empty() {
            return Err(refused(sub, "it names no directory"));
        }
        let mut archive = zip::ZipArchive::new(zip)?;
        if archive.has_duplicate_names() {
            let name = name_listed_twice(archive).unwrap_or_else(|| "?".to_owned());
            return Err(ExtractError::Duplicate {
                first: name.clone(),
                second: name,
            });
        }
        let case_twins = self.check_names(&mut archive, &base)?;
        let mut report = ExtractReport {
            case_twins,
            ..ExtractReport::default()
        };
        let mut linked = None;
        for i in 0..archive.len() {
            self.entries += 1;
            if self.entries > self.limits.max_entries {
                return Err(ExtractError::TooManyEntries {
                    limit: self.limits.max_entries,
                });
            }
            let mut entry = archive.by_index(i)?;
            let name = entry.name()?.into_owned();
            let entry_parts = safe_components(&name)?;
            if entry_parts.is_empty() {
                continue; // the root itself, e.g. `./`
            }
            let parts: Vec<&str> = base.iter().chain(&entry_parts).copied().collect();
            let mode = entry.unix_mode();
            let (parent_parts, leaf) = parts.split_at(parts.len() - 1);
            let parent = self.make_dirs(&name, parent_parts)?;
            let path = parent.join(leaf[0]);
            if entry.is_dir() {
                self.make_dirs(&name, &parts)?;
                continue;
            }
            if self.written.contains(&path) {
                return Err(ExtractError::Collision { entry: name, path });
            }
            match path.symlink_metadata() {
                // Left by an earlier run: replaced, like download-artifact
                // does (removing a link removes the link, not its target).
                Ok(meta) if !meta.is_dir() => {
                    fs::remove_file(&path).map_err(|source| ExtractError::Io {
                        path: path.clone(),
                        source,
                    })?;
                }
                Ok(_) => return Err(ExtractError::Collision { entry: name, path }),
                Err(_) => {}
            }
            let is_link = mode.is_some_and(|m| m & S_IFMT == S_IFLNK);
            let executable = mode.is_some_and(|m| m & 0o111 != 0);
            let declared = entry.size();
            if is_link {
                let mut target = String::new();
                (&mut entry)
                    .take(MAX_LINK_TARGET)
                    .read_to_string(&mut target)
                    .map_err(|_| refused(&name, "symlink target is not UTF-8 text"))?;
                check_link_target(&name, parent_parts.len() - base.len(), &target)?;
                make_symlink(&name, &target, &path)?;
            } else if let Some(spool) = in_place.as_mut().filter(|s| {
                i == 0
                    && entry.compression() == zip::CompressionMethod::Stored
                    && !entry.encrypted()
                    && entry.header_start() == 0
                    && entry.data_start() == Some(s.index.head.len() as u64)
                    && entry.compressed_size() == declared
            }) {
                let n = self.check_in_place(&name, declared, entry.crc32(), spool)?;
                report.bytes += n;
                linked = Some(Linked {
                    path: path.clone(),
                    len: n,
                    executable,
                });
            } else {
                let written = self
                    .write_file(&name, &mut entry, &path, declared, executable)
                    .inspect_err(|_| {
                        // Whatever went wrong, no half-written file stays.
                        let _ = fs::remove_file(&path);
                    })?;
                report.bytes += written;
            }
            self.written.insert(path);
            report.files += 1;
        }
        Ok((report, linked))
    }

    /// Every entry's name, before anything is written: each must be safe
    /// ([`safe_components`]) and name a path no other entry names (two
    /// directory entries for one directory aside), and no file may sit
    /// where another entry needs a directory. Returns the names that
    /// differ from another only in case, this zip's and earlier ones'.
    fn check_names<R: Read + Seek>(
        &mut self,
        archive: &mut zip::ZipArchive<R>,
        base: &[&str],
    ) -> Result<Vec<(String, String)>, ExtractError> {
        let mut paths: HashMap<String, (String, bool)> = HashMap::new();
        let mut twins = Vec::new();
        let mut folded: HashMap<String, String> = HashMap::new();
        for i in 0..archive.len().min(self.limits.max_entries.saturating_add(1)) {
            let entry = archive.by_index_raw(i)?;
            let name = entry.name()?.into_owned();
            let is_dir = entry.is_dir();
            let parts = safe_components(&name)?;
            if parts.is_empty() {
                continue;
            }
            let path: Vec<&str> = base.iter().chain(&parts).copied().collect();
            let key = path.join("/");
            if let Some((first, first_dir)) = paths.get(&key) {
                if is_dir && *first_dir {
                    continue;
                }
                return Err(ExtractError::Duplicate {
                    first: first.clone(),
                    second: name,
                });
            }
            let lower = key.to_lowercase();
            if let Some(other) = folded.get(&lower).or_else(|| self.folded.get(&lower)) {
                twins.push((other.clone(), name.clone()));
            } else {
                folded.insert(lower, name.clone());
            }
            paths.insert(key, (name, is_dir));
        }
        // `a` a file, and `a/b` inside it: one of them cannot be made.
        for (key, (name, _)) in &paths {
            let mut at = key.as_str();
            while let Some((parent, _)) = at.rsplit_once('/') {
                if let Some((file, false)) = paths.get(parent) {
                    return Err(ExtractError::Duplicate {
                        first: file.clone(),
                        second: name.clone(),
                    });
                }
                at = parent;
            }
        }
        self.folded.extend(folded);
        Ok(twins)
    }

    /// Writes one entry's data to a new file at `path`; the caller removes
    /// the file if this fails.
    fn write_file(
        &mut self,
        name: &str,
        src: &mut impl Read,
        path: &Path,
        declared: u64,
        executable: bool,
    ) -> Result<u64, ExtractError> {
        // create_new never follows a symlink planted at `path`.
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|source| ExtractError::Io {
                path: path.to_owned(),
                source,
            })?;
        let n = self.copy_checked(name, src, &mut out, path, declared)?;
        set_mode(path, executable)?;
        Ok(n)
    }

    /// A stored entry at the start of the spool, checked where it lies:
    /// within the size limit, and its CRC-32 that of the spool's first
    /// `declared` bytes; counted towards the limit.
    fn check_in_place(
        &mut self,
        name: &str,
        declared: u64,
        crc: u32,
        spool: &mut InPlace<'_>,
    ) -> Result<u64, ExtractError> {
        if declared > self.limits.max_total_bytes - self.total {
            return Err(ExtractError::TooLarge {
                entry: name.to_owned(),
                limit: self.limits.max_total_bytes,
            });
        }
        match spool.index.crc_of_prefix(&mut spool.file, declared) {
            Ok(actual) if actual == crc => {}
            _ => {
                return Err(ExtractError::Refused {
                    entry: name.to_owned(),
                    reason: "its data is corrupt (bad deflate stream, CRC or size)",
                });
            }
        }
        self.total += declared;
        Ok(declared)
    }

    /// Copies one entry's data to `out` within the size limit, checking its
    /// CRC (the zip reader's) and its length; counts it towards the limit.
    fn copy_checked(
        &mut self,
        name: &str,
        src: &mut impl Read,
        out: &mut impl io::Write,
        path: &Path,
        declared: u64,
    ) -> Result<u64, ExtractError> {
        let room = self.limits.max_total_bytes - self.total;
        let n = io::copy(&mut src.take(room + 1), out).map_err(|e| {
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
            ) {
                ExtractError::Refused {
                    entry: name.to_owned(),
                    reason: "its data is corrupt (bad deflate stream, CRC or size)",
                }
            } else {
                ExtractError::Io {
                    path: path.to_owned(),
                    source: e,
                }
            }
        })?;
        if n > room {
            return Err(ExtractError::TooLarge {
                entry: name.to_owned(),
                limit: self.limits.max_total_bytes,
            });
        }
        // A stream that ends early with a matching CRC still lied about its
        // size: the file is not the one the zip describes.
        if n != declared {
            return Err(ExtractError::Refused {
                entry: name.to_owned(),
                reason: "its data is shorter than its header declares",
            });
        }
        self.total += n;
        Ok(n)
    }

    /// Creates `root/parts...` one level at a time, refusing any level that
    /// exists as something other than a real directory.
    fn make_dirs(&self, name: &str, parts: &[&str]) -> Result<PathBuf, ExtractError> {
        let mut dir = self.root.clone();
        for part in parts {
            dir.push(part);
            match dir.symlink_metadata() {
                Ok(meta) if meta.file_type().is_dir() => {}
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(refused(name, "it would be written through a symlink"));
                }
                Ok(_) => return Err(refused(name, "a parent directory is a file")),
                // A file still to be linked from the spool is not there yet.
                Err(_) if self.written.contains(&dir) => {
                    return Err(refused(name, "a parent directory is a file"));
                }
                Err(_) => fs::create_dir(&dir).map_err(|source| ExtractError::Io {
                    path: dir.clone(),
                    source,
                })?,
            }
        }
        Ok(dir)
    }
}

/// A spool file and its index, to check an entry where it lies.
struct InPlace<'a> {
    file: fs::File,
    index: &'a SpoolIndex,
}

/// A stored first entry checked in place in the spool, to become the file
/// at `path` without being written again.
struct Linked {
    path: PathBuf,
    len: u64,
    executable: bool,
}

impl Linked {
    /// Cuts the spool to the entry's bytes and gives it the entry's name:
    /// a hard link, which like `create_new` never replaces what is there,
    /// or a copy when the spool is on another file system.
    fn link(self, spool: &Path) -> Result<(), ExtractError> {
        let io_err = |path: &Path| {
            let path = path.to_owned();
            move |source| ExtractError::Io { path, source }
        };
        let file = fs::OpenOptions::new()
            .write(true)
            .open(spool)
            .map_err(io_err(spool))?;
        file.set_len(self.len).map_err(io_err(spool))?;
        drop(file);
        if let Err(e) = fs::hard_link(spool, &self.path) {
            if e.kind() == io::ErrorKind::AlreadyExists {
                return Err(io_err(&self.path)(e));
            }
            let copied = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&self.path)
                .and_then(|mut out| io::copy(&mut fs::File::open(spool)?, &mut out));
            if let Err(e) = copied {
                let _ = fs::remove_file(&self.path);
                return Err(io_err(&self.path)(e));
            }
        }
        set_mode(&self.path, self.executable).inspect_err(|_| {
            let _ = fs::remove_file(&self.path);
        })
    }
}

/// The first name the central directory lists twice, read from the
/// directory itself: the `zip` crate keeps one entry per name, so only
/// the raw records show which name it was. `None` if they cannot be read.
fn name_listed_twice<R: Read + Seek>(archive: zip::ZipArchive<R>) -> Option<String> {
    const CENTRAL: [u8; 4] = *b"PK\x01\x02";
    let starts = [
        archive.central_directory_start(),
        archive.central_directory_start() + archive.offset(),
    ];
    let mut reader = archive.into_inner();
    for start in starts {
        reader.seek(io::SeekFrom::Start(start)).ok()?;
        let mut seen = HashSet::new();
        let mut header = [0u8; 46];
        while reader.read_exact(&mut header).is_ok() && header[..4] == CENTRAL {
            let len = |at: usize| usize::from(u16::from_le_bytes([header[at], header[at + 1]]));
            let mut name = vec![0u8; len(28)];
            reader.read_exact(&mut name).ok()?;
            let skip = i64::try_from(len(30) + len(32)).ok()?;
            reader.seek(io::SeekFrom::Current(skip)).ok()?;
            let name = String::from_utf8_lossy(&name).into_owned();
            if !seen.insert(name.clone()) {
                return Some(name);
            }
        }
    }
    None
}

fn refused(entry: &str, reason: &'static str) -> ExtractError {
    ExtractError::Refused {
        entry: entry.to_owned(),
        reason,
    }
}

/// Splits an entry name into plain components, refusing anything that could
/// point outside the target on any platform the artifact may be used on.
fn safe_components(name: &str) -> Result<Vec<&str>, ExtractError> {
    if name.contains('\0') {
        return Err(refused(name, "its name contains a NUL byte"));
    }
    if name.contains('\\') {
        return Err(refused(name, "its name contains a backslash"));
    }
    if name.starts_with('/') {
        return Err(refused(name, "its name is an absolute path"));
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err(refused(name, "its name has a drive prefix"));
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(refused(name, "its name contains `..`")),
            _ => parts.push(part),
        }
    }
    Ok(parts)
}

/// A link target may only use `..` to climb back up through the entry's own
/// parent directories, never above the target root, and only at its start:
/// the parents are real directories (see `make_dirs`), so climbing them
/// stays inside, while a `..` after a name could climb out of a directory
/// reached through another link (`d/x -> ..` then `y -> d/x/..`).
fn check_link_target(name: &str, depth: usize, target: &str) -> Result<(), ExtractError> {
    if target.is_empty()
        || target.starts_with('/')
        || target.contains('\\')
        || target.contains('\0')
    {
        return Err(refused(
            name,
            "its symlink target is absolute or not a plain path",
        ));
    }
    let bytes = target.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err(refused(name, "its symlink target has a drive prefix"));
    }
    let mut level = depth as i64;
    let mut named = false;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." if named => {
                return Err(refused(
                    name,
                    "its symlink target has `..` after a name, which could climb out through another link",
                ));
            }
            ".." => level -= 1,
            _ => {
                level += 1;
                named = true;
            }
        }
        if level < 0 {
            return Err(refused(
                name,
                "its symlink target escapes the target directory",
            ));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn make_symlink(_name: &str, target: &str, path: &Path) -> Result<(), ExtractError> {
    std::os::unix::fs::symlink(target, path).map_err(|source| ExtractError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(not(unix))]
fn make_symlink(name: &str, _target: &str, _path: &Path) -> Result<(), ExtractError> {
    Err(refused(name, "symlinks are not supported on this platform"))
}

/// Files get `0o755` when the zip marks them executable (any `x` bit) and
/// `0o644` otherwise, whatever the zip and the umask say: no group or other
/// write bit, and never setuid, setgid or sticky from a downloaded zip.
#[cfg(unix)]
fn set_mode(path: &Path, executable: bool) -> Result<(), ExtractError> {
    use std::os::unix::fs::PermissionsExt as _;
    let perm = fs::Permissions::from_mode(if executable { 0o755 } else { 0o644 });
    fs::set_permissions(path, perm).map_err(|source| ExtractError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _executable: bool) -> Result<(), ExtractError> {
    Ok(())
}

#[cfg(test)]
mod tests;
