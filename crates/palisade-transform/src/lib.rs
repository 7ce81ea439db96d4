//! SecLang transformations (urlDecodeUni, htmlEntityDecode, cmdLine, normalisePath …) over bytes.
#![forbid(unsafe_code)]
