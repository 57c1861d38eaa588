//! Helpers shared by the integration tests.

#![allow(dead_code, clippy::unwrap_used)]

/// A minimal HTTP receiver on `port`: records (headers, body) of each POST and answers 200.
pub(crate) fn receiver(port: u16, seen: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            // Header lines as sent, the name lower-cased: "name: value".
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    head.push_str(&format!("{}: {}\n", name.to_ascii_lowercase(), value.trim()));
                }
            }
            let len: usize = head.lines().find_map(|l| l.strip_prefix("content-length: ")).and_then(|v| v.parse().ok()).unwrap_or(0);
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            seen.lock().unwrap().push((head, String::from_utf8(body).unwrap()));
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
}
