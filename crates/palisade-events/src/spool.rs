//! The on-disk spool: events that could not be delivered yet, as JSON lines.
//!
//! A spool is one directory holding `current.jsonl` (being appended to) and
//! sealed segments `segment-<seq>.jsonl`. The pipeline seals the current file
//! before replaying, replays segments oldest first, and deletes a segment once
//! every event in it was delivered (or re-spooled). A `current.jsonl` left by a
//! crash is sealed on open, so nothing spooled before a crash is forgotten.
//!
//! Limits: a spool holds at most `max_bytes` (appends past that are refused and
//! counted as dropped); a line longer than [`MAX_LINE_BYTES`] or one that does
//! not parse (e.g. cut short by a crash) is skipped and counted as corrupt.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use palisade_core::SecurityEvent;
use serde_json::{Map, Value};

use crate::ecs::from_ecs;
use crate::error::{EventsError, Result};
use crate::sink::write_json_lines;

/// Longest spool line read back; longer lines count as corrupt.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

const CURRENT_FILE: &str = "current.jsonl";
const SEGMENT_PREFIX: &str = "segment-";
const SEGMENT_SUFFIX: &str = ".jsonl";

/// Outcome of an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppendOutcome {
    /// All events were written (to the buffer; see [`Spool::flush`]).
    Stored,
    /// The spool is at its byte limit; nothing was written.
    Full,
}

/// What reading a segment found.
#[derive(Debug, Default)]
pub(crate) struct SegmentContents {
    pub(crate) events: Vec<SecurityEvent>,
    /// Lines skipped as unreadable.
    pub(crate) corrupt_lines: u64,
}

#[derive(Debug)]
pub(crate) struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    /// Bytes in sealed segments plus the current file.
    stored_bytes: u64,
    current: Option<BufWriter<File>>,
    /// Bytes written into the current file (including buffered ones).
    current_bytes: u64,
    next_seq: u64,
}

fn segment_seq(name: &str) -> Option<u64> {
    name.strip_prefix(SEGMENT_PREFIX)?
        .strip_suffix(SEGMENT_SUFFIX)?
        .parse()
        .ok()
}

impl Spool {
    /// Opens (creating) the spool at `dir`, sealing a current file left behind.
    pub(crate) fn open(dir: impl Into<PathBuf>, max_bytes: u64) -> Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| EventsError::io("cannot create spool directory", &dir, e))?;
        let mut spool = Spool {
            dir,
            max_bytes,
            stored_bytes: 0,
            current: None,
            current_bytes: 0,
            next_seq: 0,
        };
        let mut max_seq = None;
        for (seq, path) in spool.list_segments()? {
            max_seq = max_seq.max(Some(seq));
            spool.stored_bytes += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        }
        spool.next_seq = max_seq.map_or(0, |s| s + 1);
        let left_over = spool.dir.join(CURRENT_FILE);
        if let Ok(meta) = std::fs::metadata(&left_over) {
            spool.stored_bytes += meta.len();
            spool.current_bytes = meta.len();
            spool.seal()?;
        }
        Ok(spool)
    }

    fn list_segments(&self) -> Result<Vec<(u64, PathBuf)>> {
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| EventsError::io("cannot list spool", &self.dir, e))?;
        let mut segments: Vec<(u64, PathBuf)> = entries
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| {
                let seq = segment_seq(entry.file_name().to_str()?)?;
                Some((seq, entry.path()))
            })
            .collect();
        segments.sort();
        Ok(segments)
    }

    /// Sealed segments, oldest first.
    pub(crate) fn segments(&self) -> Result<Vec<PathBuf>> {
        Ok(self
            .list_segments()?
            .into_iter()
            .map(|(_, path)| path)
            .collect())
    }

    /// Bytes waiting in this spool.
    pub(crate) fn stored_bytes(&self) -> u64 {
        self.stored_bytes
    }

    /// True when nothing waits (sealed or current).
    pub(crate) fn is_empty(&self) -> bool {
        self.stored_bytes == 0 && self.current_bytes == 0
    }

    /// Appends events as ECS JSON lines, unless that would pass `max_bytes`.
    pub(crate) fn append(&mut self, events: &[SecurityEvent]) -> Result<AppendOutcome> {
        let mut encoded = Vec::with_capacity(events.len() * 512);
        write_json_lines(&mut encoded, events)
            .map_err(|e| EventsError::io("cannot encode spool lines for", &self.dir, e))?;
        let len = encoded.len() as u64;
        if self.stored_bytes.saturating_add(len) > self.max_bytes {
            return Ok(AppendOutcome::Full);
        }
        let path = self.dir.join(CURRENT_FILE);
        if self.current.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| EventsError::io("cannot open spool file", &path, e))?;
            self.current = Some(BufWriter::with_capacity(64 * 1024, file));
        }
        if let Some(out) = self.current.as_mut() {
            out.write_all(&encoded)
                .map_err(|e| EventsError::io("cannot write spool file", &path, e))?;
        }
        self.current_bytes += len;
        self.stored_bytes += len;
        Ok(AppendOutcome::Stored)
    }

    /// Pushes buffered lines to the file (to the OS; survives a process crash).
    pub(crate) fn flush(&mut self) -> Result<()> {
        if let Some(out) = self.current.as_mut() {
            out.flush().map_err(|e| {
                EventsError::io("cannot flush spool file", self.dir.join(CURRENT_FILE), e)
            })?;
        }
        Ok(())
    }

    /// Closes the current file and renames it to the next segment.
    pub(crate) fn seal(&mut self) -> Result<()> {
        self.flush()?;
        self.current = None;
        if self.current_bytes == 0 {
            return Ok(());
        }
        let from = self.dir.join(CURRENT_FILE);
        let to = self.dir.join(format!(
            "{SEGMENT_PREFIX}{:020}{SEGMENT_SUFFIX}",
            self.next_seq
        ));
        std::fs::rename(&from, &to)
            .map_err(|e| EventsError::io("cannot seal spool file", &from, e))?;
        self.next_seq += 1;
        self.current_bytes = 0;
        Ok(())
    }

    /// Replaces a partly replayed segment with the events still to deliver
    /// (write to a temporary file, then rename: a crash leaves either version).
    pub(crate) fn rewrite_segment(
        &mut self,
        path: &Path,
        remaining: &[SecurityEvent],
    ) -> Result<()> {
        if remaining.is_empty() {
            return self.remove_segment(path);
        }
        let old_len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let temporary = path.with_extension("rewrite");
        let mut encoded = Vec::new();
        write_json_lines(&mut encoded, remaining)
            .map_err(|e| EventsError::io("cannot encode spool lines for", path, e))?;
        std::fs::write(&temporary, &encoded)
            .map_err(|e| EventsError::io("cannot write spool segment", &temporary, e))?;
        std::fs::rename(&temporary, path)
            .map_err(|e| EventsError::io("cannot replace spool segment", path, e))?;
        self.stored_bytes = self.stored_bytes.saturating_sub(old_len) + encoded.len() as u64;
        Ok(())
    }

    /// Deletes a replayed segment.
    pub(crate) fn remove_segment(&mut self, path: &Path) -> Result<()> {
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        std::fs::remove_file(path)
            .map_err(|e| EventsError::io("cannot remove spool segment", path, e))?;
        self.stored_bytes = self.stored_bytes.saturating_sub(len);
        Ok(())
    }
}

/// Reads a segment; unreadable lines are skipped and counted.
pub(crate) fn read_segment(path: &Path) -> Result<SegmentContents> {
    let file =
        File::open(path).map_err(|e| EventsError::io("cannot open spool segment", path, e))?;
    let mut reader = BufReader::new(file);
    let mut contents = SegmentContents::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| EventsError::io("cannot read spool segment", path, e))?;
        if read == 0 {
            break;
        }
        if line.last() != Some(&b'\n') && line.len() > MAX_LINE_BYTES {
            // Over-long line: skip the rest of it.
            contents.corrupt_lines += 1;
            skip_line(&mut reader)
                .map_err(|e| EventsError::io("cannot read spool segment", path, e))?;
            continue;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if text.is_empty() {
            continue;
        }
        match serde_json::from_slice::<Map<String, Value>>(text)
            .map_err(|_| ())
            .and_then(|doc| from_ecs(doc).map_err(|_| ()))
        {
            Ok(event) => contents.events.push(event),
            Err(()) => contents.corrupt_lines += 1,
        }
    }
    Ok(contents)
}

fn skip_line(reader: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(());
        }
        match memchr_newline(buffer) {
            Some(pos) => {
                reader.consume(pos + 1);
                return Ok(());
            }
            None => {
                let len = buffer.len();
                reader.consume(len);
            }
        }
    }
}

fn memchr_newline(buffer: &[u8]) -> Option<usize> {
    buffer.iter().position(|b| *b == b'\n')
}
