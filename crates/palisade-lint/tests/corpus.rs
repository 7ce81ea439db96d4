//! The labeled corpus (`corpus/<category>/*.py`, each case labeled `# expect: [safe] CWE-N`):
//! the analyser's per-category scores must not regress.

use std::path::Path;

use palisade_lint::LintOptions;
use palisade_lint::score::{render_score, score_corpus};

/// The mean of TPR − FPR over categories this corpus must keep (measured when last raised).
const SCORE_FLOOR: f64 = 0.95;

#[test]
fn corpus_scores_do_not_regress() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let score = score_corpus(&dir, &LintOptions::default()).expect("corpus is readable");
    let table = render_score(&score);
    println!("{table}");
    assert!(score.unlabeled.is_empty(), "unlabeled cases:\n{table}");
    assert!(
        score.categories.len() >= 14,
        "the corpus covers at least 14 categories:\n{table}"
    );
    assert!(
        score.score >= SCORE_FLOOR,
        "score {:.3} fell below {SCORE_FLOOR}:\n{table}",
        score.score
    );
}
