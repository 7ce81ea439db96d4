//! PROXY protocol v1 (text) and v2 (binary) headers, read before TLS or HTTP on listeners with
//! `proxy_protocol = true`, only from trusted peers. Reads exactly the header, never beyond it.
//! Limits: v1 lines are at most 107 bytes, v2 payloads at most 512 bytes (we need only the addresses).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncRead, AsyncReadExt};

const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
const V1_MAX: usize = 107;
const V2_MAX_PAYLOAD: usize = 512;

/// Reads a PROXY header; `Ok(Some(source))` for a proxied connection, `Ok(None)` for `UNKNOWN`/`LOCAL`.
pub(crate) async fn read_header<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> std::io::Result<Option<SocketAddr>> {
    let mut start = [0u8; 6];
    stream.read_exact(&mut start).await?;
    if &start == b"PROXY " {
        let mut line = Vec::with_capacity(V1_MAX);
        line.extend_from_slice(&start);
        loop {
            if line.len() >= V1_MAX {
                return Err(invalid("PROXY v1 line too long"));
            }
            let byte = stream.read_u8().await?;
            line.push(byte);
            if byte == b'\n' {
                break;
            }
        }
        return parse_v1(&line);
    }
    if start == V2_SIGNATURE[..6] {
        let mut rest = [0u8; 10];
        stream.read_exact(&mut rest).await?;
        if rest[..6] != V2_SIGNATURE[6..] {
            return Err(invalid("bad PROXY v2 signature"));
        }
        let version_command = rest[6];
        let family = rest[7];
        let length = usize::from(u16::from_be_bytes([rest[8], rest[9]]));
        if version_command >> 4 != 2 || length > V2_MAX_PAYLOAD {
            return Err(invalid("unsupported PROXY v2 header"));
        }
        let mut payload = vec![0u8; length];
        stream.read_exact(&mut payload).await?;
        if version_command & 0x0F == 0 {
            return Ok(None); // LOCAL: health check from the proxy itself
        }
        return parse_v2_addresses(family, &payload);
    }
    Err(invalid("missing PROXY protocol header"))
}

fn invalid(message: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.to_owned())
}

fn parse_v1(line: &[u8]) -> std::io::Result<Option<SocketAddr>> {
    let text = std::str::from_utf8(line).map_err(|_| invalid("PROXY v1 is not text"))?;
    let text = text
        .strip_suffix("\r\n")
        .ok_or_else(|| invalid("PROXY v1 must end in CRLF"))?;
    let fields: Vec<&str> = text.split(' ').collect();
    match fields.as_slice() {
        ["PROXY", "UNKNOWN", ..] => Ok(None),
        [
            "PROXY",
            family @ ("TCP4" | "TCP6"),
            source,
            _destination,
            source_port,
            _destination_port,
        ] => {
            let ip: IpAddr = source
                .parse()
                .map_err(|_| invalid("PROXY v1 source address"))?;
            if (*family == "TCP4") != ip.is_ipv4() {
                return Err(invalid("PROXY v1 address family mismatch"));
            }
            let port: u16 = source_port
                .parse()
                .map_err(|_| invalid("PROXY v1 source port"))?;
            Ok(Some(SocketAddr::new(ip, port)))
        }
        _ => Err(invalid("malformed PROXY v1 line")),
    }
}

fn parse_v2_addresses(family: u8, payload: &[u8]) -> std::io::Result<Option<SocketAddr>> {
    match family >> 4 {
        0x1 if payload.len() >= 12 => {
            let ip = Ipv4Addr::new(payload[0], payload[1], payload[2], payload[3]);
            let port = u16::from_be_bytes([payload[8], payload[9]]);
            Ok(Some(SocketAddr::new(IpAddr::V4(ip), port)))
        }
        0x2 if payload.len() >= 36 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&payload[..16]);
            let port = u16::from_be_bytes([payload[32], payload[33]]);
            Ok(Some(SocketAddr::new(
                IpAddr::V6(Ipv6Addr::from(octets)),
                port,
            )))
        }
        0x0 => Ok(None),
        _ => Err(invalid("unsupported PROXY v2 address family")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn v1_and_v2_headers_yield_the_source() {
        let mut v1: &[u8] = b"PROXY TCP4 1.2.3.4 5.6.7.8 1111 80\r\nGET";
        assert_eq!(
            read_header(&mut v1).await.ok().flatten(),
            Some("1.2.3.4:1111".parse().unwrap())
        );
        assert_eq!(v1, b"GET");
        let mut v2 = V2_SIGNATURE.to_vec();
        v2.extend_from_slice(&[0x21, 0x11, 0, 12, 9, 9, 9, 9, 5, 6, 7, 8, 0x04, 0xD2, 0, 80]);
        v2.extend_from_slice(b"rest");
        let mut reader: &[u8] = &v2;
        assert_eq!(
            read_header(&mut reader).await.ok().flatten(),
            Some("9.9.9.9:1234".parse().unwrap())
        );
        assert_eq!(reader, b"rest");
        let mut garbage: &[u8] = b"GET / HTTP/1.1\r\n\r\n";
        assert!(read_header(&mut garbage).await.is_err());
    }
}
