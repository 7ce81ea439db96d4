//! SecLang (ModSecurity rule language) parser: directives, rules, operators, variables, transformations and actions.
#![forbid(unsafe_code)]
