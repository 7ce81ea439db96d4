//! Measurement of a classifier against the labeled corpus.
//!
//! Corpus layout (see `corpus/README.md`): `attacks/<class>.txt` holds one
//! attack per line for the class named by the file stem ([`AttackClass::name`]);
//! `benign/*.txt` holds one benign input per line. Lines are raw UTF-8 with
//! backslash escapes (`\n`, `\r`, `\t`, `\0`, `\\`, `\xHH`); empty lines are
//! skipped. [`evaluate`] runs the classifier over every line (in parallel,
//! one scoped thread per core) and reports per-class true-positive rates — an
//! attack counts as detected when ANY class fires, and separately when its
//! own class fires — and per-file false-positive rates.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::AttackClass;

/// Largest corpus file read (bytes).
pub const MAX_CORPUS_FILE: u64 = 64 << 20;

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct EvalError {
    kind: EvalErrorKind,
}

#[derive(Debug, thiserror::Error)]
enum EvalErrorKind {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: file stem is not an attack class name")]
    UnknownClass { path: PathBuf },
    #[error("{path}: larger than {MAX_CORPUS_FILE} bytes")]
    TooLarge { path: PathBuf },
    #[error("{path}: no corpus files found")]
    Empty { path: PathBuf },
}

impl EvalError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        EvalError {
            kind: EvalErrorKind::Io {
                path: path.to_owned(),
                source,
            },
        }
    }
}

/// Detection figures for one attack class.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassRow {
    /// Class name (corpus file stem).
    pub class: String,
    /// Attack lines.
    pub total: usize,
    /// Lines where any class fired.
    pub detected: usize,
    /// Lines where this line's own class fired.
    pub detected_right_class: usize,
    /// `detected / total`.
    pub tpr: f64,
    /// `detected_right_class / total`.
    pub tpr_right_class: f64,
    /// Up to 5 missed lines, for tuning.
    pub missed_examples: Vec<String>,
}

/// False-positive figures for one benign file.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BenignRow {
    /// File name.
    pub file: String,
    /// Benign lines.
    pub total: usize,
    /// Lines where any class fired.
    pub flagged: usize,
    /// `flagged / total`.
    pub fpr: f64,
    /// Up to 5 flagged lines with the classes that fired.
    pub flagged_examples: Vec<String>,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EvalReport {
    /// One row per attack class file, sorted by class name.
    pub attacks: Vec<ClassRow>,
    /// One row per benign file, sorted by file name.
    pub benign: Vec<BenignRow>,
    /// All attack lines.
    pub attack_total: usize,
    /// Attack lines detected by any class.
    pub attack_detected: usize,
    /// Overall true-positive rate.
    pub tpr: f64,
    /// All benign lines.
    pub benign_total: usize,
    /// Benign lines flagged.
    pub benign_flagged: usize,
    /// Overall false-positive rate.
    pub fpr: f64,
}

impl EvalReport {
    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    }

    /// The row for `class`, when the corpus has that class.
    pub fn class(&self, class: AttackClass) -> Option<&ClassRow> {
        self.attacks.iter().find(|row| row.class == class.name())
    }
}

impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<22} {:>7} {:>9} {:>8} {:>12}",
            "attack class", "lines", "detected", "TPR", "right class"
        )?;
        for row in &self.attacks {
            writeln!(
                f,
                "{:<22} {:>7} {:>9} {:>7.2}% {:>11.2}%",
                row.class,
                row.total,
                row.detected,
                row.tpr * 100.0,
                row.tpr_right_class * 100.0
            )?;
        }
        writeln!(
            f,
            "{:<22} {:>7} {:>9} {:>7.2}%",
            "ALL ATTACKS",
            self.attack_total,
            self.attack_detected,
            self.tpr * 100.0
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<22} {:>7} {:>9} {:>8}",
            "benign file", "lines", "flagged", "FPR"
        )?;
        for row in &self.benign {
            writeln!(
                f,
                "{:<22} {:>7} {:>9} {:>7.2}%",
                row.file,
                row.total,
                row.flagged,
                row.fpr * 100.0
            )?;
        }
        writeln!(
            f,
            "{:<22} {:>7} {:>9} {:>7.2}%",
            "ALL BENIGN",
            self.benign_total,
            self.benign_flagged,
            self.fpr * 100.0
        )
    }
}

/// Evaluates `classify` on the corpus under `corpus_dir` (see the module doc).
pub fn evaluate(
    corpus_dir: &Path,
    classify: impl Fn(&[u8]) -> Vec<AttackClass> + Sync,
) -> Result<EvalReport, EvalError> {
    let attack_files = list_txt(&corpus_dir.join("attacks"))?;
    let benign_files = list_txt(&corpus_dir.join("benign"))?;
    let mut attacks = Vec::with_capacity(attack_files.len());
    for path in &attack_files {
        let stem = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or_default();
        let class = AttackClass::from_name(stem).ok_or_else(|| EvalError {
            kind: EvalErrorKind::UnknownClass { path: path.clone() },
        })?;
        let lines = read_lines(path)?;
        let results = classify_parallel(&lines, &classify);
        let detected = results.iter().filter(|classes| !classes.is_empty()).count();
        let right = results
            .iter()
            .filter(|classes| classes.contains(&class))
            .count();
        let missed_examples = lines
            .iter()
            .zip(&results)
            .filter(|(_, classes)| classes.is_empty())
            .take(5)
            .map(|(line, _)| String::from_utf8_lossy(line).into_owned())
            .collect();
        attacks.push(ClassRow {
            class: stem.to_owned(),
            total: lines.len(),
            detected,
            detected_right_class: right,
            tpr: ratio(detected, lines.len()),
            tpr_right_class: ratio(right, lines.len()),
            missed_examples,
        });
    }
    let mut benign = Vec::with_capacity(benign_files.len());
    for path in &benign_files {
        let lines = read_lines(path)?;
        let results = classify_parallel(&lines, &classify);
        let flagged = results.iter().filter(|classes| !classes.is_empty()).count();
        let flagged_examples = lines
            .iter()
            .zip(&results)
            .filter(|(_, classes)| !classes.is_empty())
            .take(5)
            .map(|(line, classes)| {
                let names: Vec<&str> = classes.iter().map(|class| class.name()).collect();
                format!("[{}] {}", names.join(","), String::from_utf8_lossy(line))
            })
            .collect();
        benign.push(BenignRow {
            file: path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            total: lines.len(),
            flagged,
            fpr: ratio(flagged, lines.len()),
            flagged_examples,
        });
    }
    let attack_total = attacks.iter().map(|row| row.total).sum();
    let attack_detected = attacks.iter().map(|row| row.detected).sum();
    let benign_total = benign.iter().map(|row| row.total).sum();
    let benign_flagged = benign.iter().map(|row| row.flagged).sum();
    Ok(EvalReport {
        attacks,
        benign,
        attack_total,
        attack_detected,
        tpr: ratio(attack_detected, attack_total),
        benign_total,
        benign_flagged,
        fpr: ratio(benign_flagged, benign_total),
    })
}

fn ratio(part: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 / total as f64
    }
}

fn list_txt(dir: &Path) -> Result<Vec<PathBuf>, EvalError> {
    let entries = std::fs::read_dir(dir).map_err(|error| EvalError::io(dir, error))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|error| EvalError::io(dir, error))?.path();
        if path.extension().is_some_and(|extension| extension == "txt") {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(EvalError {
            kind: EvalErrorKind::Empty {
                path: dir.to_owned(),
            },
        });
    }
    files.sort();
    Ok(files)
}

/// Reads a corpus file into unescaped, non-empty lines.
pub fn read_lines(path: &Path) -> Result<Vec<Vec<u8>>, EvalError> {
    let size = std::fs::metadata(path)
        .map_err(|error| EvalError::io(path, error))?
        .len();
    if size > MAX_CORPUS_FILE {
        return Err(EvalError {
            kind: EvalErrorKind::TooLarge {
                path: path.to_owned(),
            },
        });
    }
    let bytes = std::fs::read(path).map_err(|error| EvalError::io(path, error))?;
    Ok(bytes
        .split(|&byte| byte == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.is_empty())
        .map(unescape_line)
        .collect())
}

/// Undoes the corpus line escapes: `\n`, `\r`, `\t`, `\0`, `\\`, `\xHH`.
/// Any other backslash is kept literally.
pub fn unescape_line(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0usize;
    while i < line.len() {
        let byte = line[i];
        if byte != b'\\' || i + 1 == line.len() {
            out.push(byte);
            i += 1;
            continue;
        }
        let (decoded, consumed) = match line[i + 1] {
            b'n' => (b'\n', 2),
            b'r' => (b'\r', 2),
            b't' => (b'\t', 2),
            b'0' => (0, 2),
            b'\\' => (b'\\', 2),
            b'x' => match line
                .get(i + 2..i + 4)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            {
                Some(value) => (value, 4),
                None => (b'\\', 1),
            },
            _ => (b'\\', 1),
        };
        out.push(decoded);
        i += consumed;
    }
    out
}

fn classify_parallel(
    lines: &[Vec<u8>],
    classify: &(impl Fn(&[u8]) -> Vec<AttackClass> + Sync),
) -> Vec<Vec<AttackClass>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .max(1);
    let chunk = lines.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = lines
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|line| classify(line)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::unescape_line;

    #[test]
    fn corpus_escapes_round_trip() {
        assert_eq!(
            unescape_line(br"a\nb\r\tc\\d\x41\0\q"),
            b"a\nb\r\tc\\dA\0\\q".to_vec()
        );
    }
}
