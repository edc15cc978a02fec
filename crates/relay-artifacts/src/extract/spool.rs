//! The spool of a zip that will be extracted, laid out so that its first
//! entry, when stored (not compressed), needs no second write: the entry's
//! local header stays in memory ([`HeadSplit`]) and everything after it
//! goes to the file, so the file begins with that entry's bytes. The CRC-32
//! of each piece of the file is taken as it is written ([`SpoolIndex`]), so
//! that entry's CRC is checked without reading it back. Once every other
//! entry is extracted, the file is cut to the entry's length and linked
//! into place (see `Extractor::extract_spool`). [`Joined`] reads the two
//! halves back as the zip they were.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use bytes::Bytes;

const SIGNATURE: &[u8; 4] = b"PK\x03\x04";
/// The fixed part of a local file header; the name and the extra field
/// follow, their lengths at offsets 26 and 28.
const FIXED: usize = 30;

/// Splits a zip's first local header off the downloaded chunks.
#[derive(Debug, Default)]
pub(crate) struct HeadSplit {
    head: Vec<u8>,
    done: bool,
}

impl HeadSplit {
    /// Takes one downloaded chunk; returns what goes to the file after it
    /// (nothing while the header is incomplete, everything once it is, and
    /// the bytes held back too when the zip does not begin with a local
    /// header). The stream is always `head` followed by the file.
    pub(crate) fn feed(&mut self, mut chunk: Bytes) -> Vec<Bytes> {
        while !self.done {
            match self.wanted() {
                Some(want) if self.head.len() >= want => self.done = true,
                Some(_) if chunk.is_empty() => return Vec::new(),
                Some(want) => {
                    let take = (want - self.head.len()).min(chunk.len());
                    self.head.extend_from_slice(&chunk.split_to(take));
                }
                None => {
                    self.done = true;
                    let held = Bytes::from(std::mem::take(&mut self.head));
                    return [held, chunk]
                        .into_iter()
                        .filter(|b| !b.is_empty())
                        .collect();
                }
            }
        }
        if chunk.is_empty() {
            Vec::new()
        } else {
            vec![chunk]
        }
    }

    /// The header's full length as far as it is known, or `None` when the
    /// bytes held are not the start of a local header.
    fn wanted(&self) -> Option<usize> {
        let have = self.head.len().min(SIGNATURE.len());
        if self.head[..have] != SIGNATURE[..have] {
            return None;
        }
        if self.head.len() < FIXED {
            return Some(FIXED);
        }
        let le = |at: usize| usize::from(u16::from_le_bytes([self.head[at], self.head[at + 1]]));
        Some(FIXED + le(26) + le(28))
    }

    /// The bytes kept in memory: the stream's first `head.len()` bytes.
    pub(crate) fn into_head(self) -> Vec<u8> {
        self.head
    }
}

/// Bytes per CRC piece of the spool file.
const PIECE: u64 = 1 << 20;

/// What spooling learned: the head held in memory, and the CRC-32 of each
/// whole piece (1 MiB) of the file written after it.
#[derive(Debug, Default)]
pub struct SpoolIndex {
    pub(crate) head: Vec<u8>,
    pieces: Vec<crc32fast::Hasher>,
    current: crc32fast::Hasher,
    in_current: u64,
}

impl SpoolIndex {
    /// Writes `zip` to a new spool file at `path` as a relay does while
    /// downloading (in chunks of `chunk` bytes), and returns its index: for
    /// [`crate::Extractor::extract_spool`] in tests and the fuzz target.
    pub fn spool(zip: &[u8], chunk: usize, path: &Path) -> io::Result<Self> {
        let mut split = HeadSplit::default();
        let mut index = SpoolIndex::default();
        let mut file = io::BufWriter::new(File::create(path)?);
        for c in zip.chunks(chunk.max(1)) {
            for part in split.feed(Bytes::copy_from_slice(c)) {
                index.add(&part);
                io::Write::write_all(&mut file, &part)?;
            }
        }
        io::Write::flush(&mut file)?;
        index.head = split.into_head();
        Ok(index)
    }

    /// Takes the next bytes written to the file.
    pub(crate) fn add(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let n = (PIECE - self.in_current).min(data.len() as u64) as usize;
            self.current.update(&data[..n]);
            self.in_current += n as u64;
            data = &data[n..];
            if self.in_current == PIECE {
                self.pieces.push(std::mem::take(&mut self.current));
                self.in_current = 0;
            }
        }
    }

    /// The CRC-32 of the first `len` bytes of `file` (the file this index
    /// was taken of): the whole pieces combined, the rest read back.
    pub(crate) fn crc_of_prefix(&self, file: &mut File, len: u64) -> io::Result<u32> {
        let whole = len / PIECE;
        let short = || io::Error::new(io::ErrorKind::UnexpectedEof, "the spool is shorter");
        let pieces = self.pieces.get(..whole as usize).ok_or_else(short)?;
        let mut crc = crc32fast::Hasher::new();
        for piece in pieces {
            crc.combine(piece);
        }
        let rest = len - whole * PIECE;
        file.seek(SeekFrom::Start(whole * PIECE))?;
        let mut tail = Vec::new();
        file.take(rest).read_to_end(&mut tail)?;
        if (tail.len() as u64) < rest {
            return Err(short());
        }
        crc.update(&tail);
        Ok(crc.finalize())
    }
}

/// `head` followed by the spool file, read as one zip.
pub(crate) struct Joined {
    head: Vec<u8>,
    file: File,
    len: u64,
    pos: u64,
    /// Where the file's own cursor is, to seek it only when needed.
    file_pos: Option<u64>,
}

impl Joined {
    pub(crate) fn new(head: Vec<u8>, file: File) -> io::Result<Self> {
        let len = head.len() as u64 + file.metadata()?.len();
        Ok(Self {
            head,
            file,
            len,
            pos: 0,
            file_pos: None,
        })
    }
}

impl Read for Joined {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let h = self.head.len() as u64;
        if self.pos < h {
            let from = &self.head[self.pos as usize..];
            let n = from.len().min(buf.len());
            buf[..n].copy_from_slice(&from[..n]);
            self.pos += n as u64;
            return Ok(n);
        }
        let at = self.pos - h;
        if self.file_pos != Some(at) {
            self.file.seek(SeekFrom::Start(at))?;
        }
        let n = self.file.read(buf)?;
        self.pos += n as u64;
        self.file_pos = Some(at + n as u64);
        Ok(n)
    }
}

impl Seek for Joined {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let new = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = new
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_of(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
        use std::io::Write as _;
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        for (name, data) in entries {
            let o = zip::write::SimpleFileOptions::default().compression_method(method);
            w.start_file(*name, o).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// Feeds `stream` in chunks of `size`; returns (head, file bytes).
    fn split(stream: &[u8], size: usize) -> (Vec<u8>, Vec<u8>) {
        let mut s = HeadSplit::default();
        let mut file = Vec::new();
        for c in stream.chunks(size.max(1)) {
            for part in s.feed(Bytes::copy_from_slice(c)) {
                file.extend_from_slice(&part);
            }
        }
        (s.into_head(), file)
    }

    #[test]
    fn the_first_local_header_is_held_back_whatever_the_chunking() {
        let zip = zip_of(
            &[("dir/a-long-name.bin", b"payload bytes"), ("b", b"x")],
            zip::CompressionMethod::Stored,
        );
        let name_len = "dir/a-long-name.bin".len();
        for size in [1, 2, 3, 4, 5, 29, 30, 31, 40, 1000, zip.len()] {
            let (head, file) = split(&zip, size);
            assert_eq!(&head[..4], SIGNATURE, "chunks of {size}");
            assert_eq!(head.len(), FIXED + name_len, "chunks of {size}");
            assert!(file.starts_with(b"payload bytes"), "chunks of {size}");
            assert_eq!([head, file].concat(), zip, "chunks of {size}");
        }
    }

    #[test]
    fn a_stream_that_is_not_a_zip_goes_to_the_file_whole() {
        for stream in [
            &b"PK\x03\x05 not a header"[..],
            b"hello",
            b"P",
            b"",
            b"PK\x03\x04short",
        ] {
            for size in [1, 3, 100] {
                let (head, file) = split(stream, size);
                assert_eq!([head.clone(), file.clone()].concat(), stream);
                // Held back only while it may still be a local header.
                if !SIGNATURE.starts_with(&stream[..stream.len().min(4)]) {
                    assert!(head.is_empty(), "{stream:?} in chunks of {size}");
                }
            }
        }
    }

    #[test]
    fn the_crc_of_any_prefix_comes_from_the_pieces_and_the_rest() {
        let data: Vec<u8> = (0..(3 * PIECE + 12_345))
            .map(|i| (i * 7 % 253) as u8)
            .collect();
        let mut index = SpoolIndex::default();
        for c in data.chunks(65_537) {
            index.add(c);
        }
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &data).unwrap();
        let p = PIECE as usize;
        for len in [0, 1, p - 1, p, p + 1, 2 * p, 3 * p + 12_345] {
            assert_eq!(
                index.crc_of_prefix(&mut file, len as u64).unwrap(),
                crc32fast::hash(&data[..len]),
                "prefix of {len}"
            );
        }
        let past = index.crc_of_prefix(&mut file, data.len() as u64 + 1);
        assert_eq!(past.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
        let far = index.crc_of_prefix(&mut file, 10 * PIECE);
        assert_eq!(far.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn joined_reads_and_seeks_as_the_whole_zip() {
        let zip = zip_of(
            &[("one.txt", b"first entry"), ("two.txt", b"second entry")],
            zip::CompressionMethod::Deflated,
        );
        let (head, rest) = split(&zip, 7);
        let mut tmp = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut tmp, &rest).unwrap();
        let mut j = Joined::new(head, tmp).unwrap();
        let mut all = Vec::new();
        j.read_to_end(&mut all).unwrap();
        assert_eq!(all, zip);
        let mut tail = [0u8; 10];
        j.seek(SeekFrom::End(-10)).unwrap();
        j.read_exact(&mut tail).unwrap();
        assert_eq!(tail, zip[zip.len() - 10..]);
        j.seek(SeekFrom::Start(2)).unwrap();
        let mut two = [0u8; 2];
        j.read_exact(&mut two).unwrap();
        assert_eq!(two, zip[2..4]);
        assert!(j.seek(SeekFrom::Current(-100)).is_err());
        let mut archive = zip::ZipArchive::new(j).unwrap();
        let mut text = String::new();
        archive
            .by_name("two.txt")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "second entry");
    }
}
