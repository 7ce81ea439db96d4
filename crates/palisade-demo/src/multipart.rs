//! A minimal, bounded `multipart/form-data` reader: enough to report the name
//! and size of uploaded files. Limits: the body is already size-limited by the
//! caller; at most [`MAX_PARTS`] parts and [`MAX_PART_HEADER_BYTES`] of headers
//! per part are examined. Linear in the body size.

/// Most parts examined.
const MAX_PARTS: usize = 32;
/// Largest header block of one part.
const MAX_PART_HEADER_BYTES: usize = 8 * 1024;

/// One uploaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UploadedFile {
    pub(crate) file_name: String,
    pub(crate) size: usize,
}

/// The boundary parameter of a `multipart/form-data` content type.
pub(crate) fn boundary(content_type: &str) -> Option<&str> {
    let mut params = content_type.split(';');
    let media_type = params.next()?.trim();
    if !media_type.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .find_map(|p| {
            let (name, value) = p.trim().split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| value.trim().trim_matches('"'))
        })
        .filter(|b| !b.is_empty() && b.len() <= 200)
}

/// The file parts of `body` (parts with a `filename` in Content-Disposition).
pub(crate) fn files(body: &[u8], boundary: &str) -> Result<Vec<UploadedFile>, &'static str> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut rest = match find(body, delimiter) {
        Some(i) => &body[i + delimiter.len()..],
        None => return Err("the boundary does not occur in the body"),
    };
    let mut files = Vec::new();
    for _ in 0..MAX_PARTS {
        if rest.starts_with(b"--") {
            return Ok(files);
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or("a boundary is not followed by CRLF")?;
        let header_end = find(&rest[..rest.len().min(MAX_PART_HEADER_BYTES)], b"\r\n\r\n")
            .ok_or("part headers are missing or too long")?;
        let headers =
            std::str::from_utf8(&rest[..header_end]).map_err(|_| "part headers are not UTF-8")?;
        let content = &rest[header_end + 4..];
        let mut closing = Vec::with_capacity(delimiter.len() + 2);
        closing.extend_from_slice(b"\r\n");
        closing.extend_from_slice(delimiter);
        let end = find(content, &closing).ok_or("a part is not terminated by the boundary")?;
        if let Some(file_name) = file_name(headers) {
            files.push(UploadedFile {
                file_name,
                size: end,
            });
        }
        rest = &content[end + closing.len()..];
    }
    Ok(files)
}

fn file_name(headers: &str) -> Option<String> {
    let disposition = headers
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-disposition"))?
        .1;
    disposition.split(';').find_map(|p| {
        let (name, value) = p.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("filename")
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    // memchr-free two-way search is overkill here; windows() is linear for a fixed short needle.
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_boundary_and_files() {
        assert_eq!(
            boundary("multipart/form-data; boundary=\"abc\""),
            Some("abc")
        );
        assert_eq!(boundary("text/plain; boundary=abc"), None);
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello world\r\n--XX--\r\n";
        assert_eq!(
            files(body, "XX"),
            Ok(vec![UploadedFile {
                file_name: "a.txt".to_owned(),
                size: 11
            }])
        );
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        for body in [
            &b""[..],
            b"--XX",
            b"--XX\r\nno headers end",
            b"--XX\r\nA: b\r\n\r\nunterminated",
            b"--XXjunk",
        ] {
            assert!(files(body, "XX").is_err(), "{body:?}");
        }
    }
}
