//! The boolean differential engine for SQL and XPath injection. A template gives a pair of
//! values that differ only in the truth of a condition the attacker controls. In the AND form
//! the true value must show the baseline page and the false value a different one; in the OR
//! form the false value must show the baseline page and the true value a different one; the
//! two must differ from each other. Each round uses fresh random constants and must pass
//! twice, and the baseline must reproduce itself — a page that changes on its own or echoes
//! the input never passes.

use crate::checks::compare::same_page;
use crate::checks::{Probe, random_in};
use crate::error::ScanError;
use crate::http::Exchange;

/// Which side of the pair must look like the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `v AND cond`: true keeps the result, false changes it.
    And,
    /// `v OR cond`: false keeps the result, true changes it.
    Or,
}

/// A confirmed differential.
#[derive(Debug)]
pub struct Differential {
    /// The value with the true condition.
    pub true_value: String,
    /// Its response.
    pub true_exchange: Exchange,
    /// The value with the false condition.
    pub false_value: String,
    /// Its response.
    pub false_exchange: Exchange,
}

/// Runs two rounds of `template(a, b)` (true value uses `a = a`, false `a = b`).
pub fn confirm(
    probe: &Probe<'_>,
    form: Form,
    template: &dyn Fn(&str, u32, u32) -> (String, String),
) -> Result<Option<Differential>, ScanError> {
    let original = probe.original();
    let mut last = None;
    for round in 0..2 {
        let a = random_in(11..99);
        let b = a + random_in(1..50);
        let (true_value, false_value) = template(original, a, b);
        let true_exchange = probe.send(&true_value)?;
        let false_exchange = probe.send(&false_value)?;
        let true_is_base = same_page(
            &true_exchange,
            &true_value,
            probe.baseline,
            original,
            original,
        );
        let false_is_base = same_page(
            &false_exchange,
            &false_value,
            probe.baseline,
            original,
            original,
        );
        let pair_same = same_page(
            &true_exchange,
            &true_value,
            &false_exchange,
            &false_value,
            original,
        );
        let passes = !pair_same
            && match form {
                Form::And => true_is_base && !false_is_base,
                Form::Or => false_is_base && !true_is_base,
            };
        if !passes {
            return Ok(None);
        }
        if round == 0 {
            let again = probe.send(original)?;
            if !same_page(&again, original, probe.baseline, original, original) {
                return Ok(None);
            }
        }
        last = Some(Differential {
            true_value,
            true_exchange,
            false_value,
            false_exchange,
        });
    }
    Ok(last)
}
