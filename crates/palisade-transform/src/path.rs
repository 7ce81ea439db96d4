//! `normalisePath` / `normalisePathWin`: removes self references (`./`),
//! back references (`x/../`) and repeated slashes without ever going above
//! the root, following libmodsecurity's `normalize_path_inplace` step by step
//! (a relative path keeps `..` segments it cannot resolve; a trailing slash is
//! kept only when the input had one).

use std::borrow::Cow;

use crate::decode_if;

pub(crate) fn normalise_path(input: &[u8], windows: bool) -> Cow<'_, [u8]> {
    let may_change = memchr::memchr(b'.', input).is_some()
        || memchr::memmem::find(input, b"//").is_some()
        || (windows && memchr::memchr(b'\\', input).is_some());
    decode_if(input, may_change, |input, out| {
        normalise_into(input, windows, out)
    })
}

fn normalise_into(input: &[u8], windows: bool, out: &mut Vec<u8>) {
    let is_slash = |b: u8| b == b'/' || (windows && b == b'\\');
    let Some(&last) = input.last() else {
        return;
    };
    // The in-place algorithm reads and writes one buffer; `buf[..dst]` is the output.
    let mut buf: Vec<u8> = if windows {
        input
            .iter()
            .map(|&b| if b == b'\\' { b'/' } else { b })
            .collect()
    } else {
        input.to_vec()
    };
    let end = buf.len() - 1;
    let relative = !is_slash(input[0]);
    let trailing = is_slash(last);
    let mut src = 0usize;
    let mut dst = 0usize;
    let mut hit_root = false;
    let mut done = false;

    while !done && src <= end && dst <= end {
        let mut skip_copy = false;
        let normalise_segment = if src == end {
            done = true;
            true
        } else {
            buf[src + 1] == b'/'
        };
        if normalise_segment {
            if src != end && buf[src] == b'/' {
                // Empty segment: the copy step collapses the slashes.
            } else if buf[src] == b'.' {
                if dst > 0 && buf[dst - 1] == b'.' {
                    // Back reference.
                    if relative && (hit_root || dst <= 2) {
                        hit_root = true;
                    } else {
                        let mut back = dst as isize - 3;
                        while back > 0 && buf[back as usize] != b'/' {
                            back -= 1;
                        }
                        if back <= 0 {
                            hit_root = true;
                            back = 0;
                            if !relative && src == end {
                                back = 1;
                            }
                        }
                        dst = back as usize;
                        if done {
                            break;
                        }
                        src += 1;
                    }
                } else if dst == 0 {
                    // Relative self reference at the start.
                    if done {
                        break;
                    }
                    src += 1;
                } else if buf[dst - 1] == b'/' {
                    // Self reference.
                    if done {
                        break;
                    }
                    dst -= 1;
                    src += 1;
                }
            } else if dst > 0 {
                hit_root = false;
            }
        }

        // Copy step.
        if src > end {
            break;
        }
        if buf[src] == b'/' {
            while src < end && buf[src + 1] == b'/' {
                src += 1;
            }
            if relative && dst == 0 {
                src += 1;
                skip_copy = true;
            }
        }
        if !skip_copy {
            buf[dst] = buf[src];
            dst += 1;
            src += 1;
        }
    }
    if !trailing && dst > 0 && buf[dst - 1] == b'/' {
        dst -= 1;
    }
    out.extend_from_slice(&buf[..dst]);
}
