//! Lints the given paths with the default options and prints the table report
//! (the library alone, without the `palisade` binary): `cargo run -p palisade-lint --example lint_paths -- DIR`.

fn main() {
    let paths: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    let started = std::time::Instant::now();
    match palisade_lint::lint_paths(&paths, &palisade_lint::LintOptions::default()) {
        Ok(report) => {
            print!("{}", palisade_lint::report::render_table(&report));
            eprintln!("{:.3} s", started.elapsed().as_secs_f64());
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
