//! SecLang operators (@rx with PCRE translation, @pm, @validate*, @ipMatch, @verifyCC …) as compiled matchers for the WAF engine.
#![forbid(unsafe_code)]
