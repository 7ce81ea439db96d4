//! SQL injection detector (placeholder module; owned by the SQLi/XSS work).
