//! Runs the detector evaluation over the corpus and prints the report.
//!
//! Usage: `cargo run -p palisade-detect --example eval -- [--format table|json] [CORPUS_DIR]`
//! (default corpus: the repository's `corpus/`). Stand-in until `palisade detect eval` exists.
//! `--explain FILE` prints every line of one corpus file with the detections it raised.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut format = String::from("table");
    let mut corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../corpus");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--format" => format = args.next().unwrap_or_default(),
            "--explain" => return explain(args.next().map(PathBuf::from)),
            "--help" | "-h" => {
                println!("usage: eval [--format table|json] [CORPUS_DIR] | eval --explain FILE");
                return ExitCode::SUCCESS;
            }
            _ => corpus = PathBuf::from(arg),
        }
    }
    match palisade_detect::eval::evaluate(&corpus, palisade_detect::normalize::classify) {
        Ok(report) if format == "json" => {
            println!("{}", report.to_json());
            ExitCode::SUCCESS
        }
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("eval: {error}");
            ExitCode::FAILURE
        }
    }
}

fn explain(path: Option<PathBuf>) -> ExitCode {
    let Some(path) = path else {
        eprintln!("eval: --explain needs a corpus file");
        return ExitCode::FAILURE;
    };
    let lines = match palisade_detect::eval::read_lines(&path) {
        Ok(lines) => lines,
        Err(error) => {
            eprintln!("eval: {error}");
            return ExitCode::FAILURE;
        }
    };
    for line in lines {
        let detections = palisade_detect::scan_all(&line);
        let summary: Vec<String> = detections
            .iter()
            .map(|detection| format!("{}:{}", detection.class, detection.fingerprint))
            .collect();
        println!(
            "[{}]\t{}",
            summary.join(","),
            String::from_utf8_lossy(&line).escape_debug()
        );
    }
    ExitCode::SUCCESS
}
