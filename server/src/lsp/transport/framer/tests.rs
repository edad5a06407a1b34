use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::*;

/// Small limits, so a test can cross them with little data.
const SMALL: Limits = Limits {
    max_frame: 64,
    max_header: 128,
};

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Everything the framer makes of `wire`, fed in reads of `chunk` bytes.
fn read_all(limits: Limits, wire: &[u8], chunk: usize) -> Vec<Result<String, String>> {
    let mut framer = Framer::new(limits);
    let mut got = Vec::new();
    for piece in wire.chunks(chunk.max(1)) {
        framer.push(piece);
        while let Some(frame) = framer.next() {
            got.push(match frame {
                Frame::Body(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
                Frame::Bad(m) => Err(m),
            });
        }
    }
    got
}

fn bodies(got: &[Result<String, String>]) -> Vec<&str> {
    got.iter().filter_map(|r| r.as_deref().ok()).collect()
}

#[test]
fn frames_split_across_reads_are_reassembled() {
    let wire = [frame(b"{\"a\":1}"), frame("{\"b\":\"é\"}".as_bytes())].concat();
    assert_eq!(
        read_all(CLIENT, &wire, 1),
        vec![Ok("{\"a\":1}".into()), Ok("{\"b\":\"é\"}".into())]
    );
}

#[test]
fn header_names_are_case_insensitive_and_content_type_allowed() {
    let wire =
        b"content-length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}";
    assert_eq!(read_all(CLIENT, wire, 7), vec![Ok("{}".into())]);
}

#[test]
fn bad_content_length_is_reported_once_and_the_next_frame_read() {
    let wire = [
        b"Content-Length: abc\r\n\r\n{\"junk\":true}".to_vec(),
        frame(b"{\"ok\":1}"),
    ]
    .concat();
    let got = read_all(CLIENT, &wire, 5);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0]
        .as_ref()
        .unwrap_err()
        .contains("invalid Content-Length"));
    assert_eq!(got[1], Ok("{\"ok\":1}".into()));
}

#[test]
fn every_frame_after_a_missing_content_length_is_read() {
    // The old resync kept a tail of the bad body and glued it to the next
    // header, which then failed too, and so on for ever.
    let mut wire = b"X-Nothing: here\r\n\r\n{\"lost\":\"body\"}".to_vec();
    for n in 0..20 {
        wire.extend(frame(format!("{{\"n\":{n}}}").as_bytes()));
    }
    for chunk in [1, 3, 14, 64, 4096] {
        let got = read_all(CLIENT, &wire, chunk);
        assert_eq!(got.len(), 21, "chunk {chunk}: {got:?}");
        assert!(got[0].is_err(), "{got:?}");
        assert_eq!(bodies(&got).len(), 20, "chunk {chunk}: {got:?}");
    }
}

#[test]
fn a_frame_over_the_limit_is_skipped_by_counting_without_buffering_it() {
    // Its body holds a frame of its own: counting skips it, a search would not.
    let mut body = frame(b"{\"inside\":1}");
    body.resize(200, b'x');
    let wire = [frame(&body), frame(b"{\"after\":1}")].concat();
    let mut framer = Framer::new(SMALL);
    let mut got = Vec::new();
    for piece in wire.chunks(16) {
        framer.push(piece);
        assert!(framer.buffered() <= 16 + 32, "{} bytes", framer.buffered());
        got.extend(std::iter::from_fn(|| framer.next()));
    }
    assert_eq!(
        got,
        vec![
            Frame::Bad("frame of 200 bytes exceeds the limit of 64 bytes; it is skipped".into()),
            Frame::Body(b"{\"after\":1}".to_vec()),
        ]
    );
}

#[test]
fn an_endless_header_block_is_reported_at_the_limit_and_never_buffered() {
    let mut framer = Framer::new(SMALL);
    framer.push(b"Content-Length: 5\r\nX-Junk: ");
    assert_eq!(framer.next(), None);
    let junk = [b'a'; 1000];
    framer.push(&junk);
    assert_eq!(
        framer.next(),
        Some(Frame::Bad("header block longer than 128 bytes".into()))
    );
    assert_eq!(framer.next(), None);
    for _ in 0..1000 {
        framer.push(&junk);
        assert_eq!(framer.next(), None, "the same stretch is reported once");
        assert!(framer.buffered() <= junk.len() + 13);
    }
    framer.push(&frame(b"{\"after\":1}"));
    assert_eq!(framer.next(), Some(Frame::Body(b"{\"after\":1}".to_vec())));
}

#[test]
fn a_content_length_larger_than_the_body_swallows_what_follows_then_resyncs() {
    // Claims 40 bytes, has 2: the first 38 bytes of what follows are taken as
    // its body. The frame starting inside them is lost; the next is read.
    let first = frame(b"{\"n\":1}");
    let second = frame(b"{\"n\":2}");
    assert!(first.len() < 38 && first.len() + second.len() > 38);
    let wire = [
        b"Content-Length: 40\r\n\r\n{}".to_vec(),
        first,
        second,
        frame(b"{\"n\":3}"),
    ]
    .concat();
    let got = read_all(CLIENT, &wire, 9);
    assert_eq!(bodies(&got).len(), 2, "{got:?}");
    assert!(bodies(&got)[0].starts_with("{}Content-Length"), "{got:?}");
    assert_eq!(bodies(&got)[1], "{\"n\":3}", "{got:?}");
}

/// One stretch of input in the fuzz test.
#[derive(Clone, Debug)]
enum Piece {
    /// A well-formed frame with a marker body `{"valid":N}`.
    Valid,
    /// A frame with the right length whose body is not JSON.
    NotJson(Vec<u8>),
    /// Bytes that hold no `Content-Length` (possibly a long header block).
    Garbage(Vec<u8>),
    /// A frame over the limit; its body holds a marker frame that must not
    /// be read.
    TooLarge(Vec<u8>),
    /// A frame claiming `extra` more bytes than its body has.
    Lying { body: Vec<u8>, extra: usize },
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b"\r\n\r\n:: {}\"Content-Lgh0123456789".to_vec();
    prop::collection::vec(
        prop_oneof![any::<u8>(), prop::sample::select(alphabet)],
        0..max,
    )
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        4 => Just(Piece::Valid),
        1 => bytes(40).prop_map(Piece::NotJson),
        2 => bytes(400).prop_map(Piece::Garbage),
        1 => bytes(120).prop_map(Piece::TooLarge),
        1 => (bytes(20), 1..200usize).prop_map(|(body, extra)| Piece::Lying { body, extra }),
    ]
}

fn has_length_header(bytes: &[u8]) -> bool {
    find_length_header(bytes).is_some()
}

/// Breaks every `Content-Length` in garbage, so it stays garbage.
fn without_headers(mut bytes: Vec<u8>) -> Vec<u8> {
    while let Some(at) = find_length_header(&bytes) {
        bytes[at] = b'#';
    }
    bytes
}

/// The wire for `pieces`, the markers that must be read and those that may.
fn build(pieces: &[Piece]) -> (Vec<u8>, Vec<u64>, Vec<u64>) {
    let mut wire = Vec::new();
    let mut must = Vec::new();
    let mut may = Vec::new();
    // Where the last lying frame's claimed body ends.
    let mut swallowed_to = 0;
    // After a claimed end inside a piece whose rest holds a header, what
    // follows depends on that text: later markers may be lost.
    let mut tainted = false;
    let mut starts = Vec::new();
    for (n, piece) in (0u64..).zip(pieces) {
        let start = wire.len();
        starts.push(start);
        match piece {
            Piece::Valid => {
                wire.extend(frame(format!("{{\"valid\":{n}}}").as_bytes()));
                if start >= swallowed_to && !tainted {
                    must.push(n);
                }
                may.push(n);
            }
            Piece::NotJson(body) => {
                let mut body = body.clone();
                body.insert(0, b'!');
                body.truncate(SMALL.max_frame);
                wire.extend(frame(&body));
            }
            Piece::Garbage(bytes) => {
                // A NUL first: no header can begin in what came before and
                // end in this garbage.
                wire.push(0);
                wire.extend(without_headers(bytes.clone()));
            }
            Piece::TooLarge(bytes) => {
                let inner = 1_000_000 + n;
                let mut body = frame(format!("{{\"valid\":{inner}}}").as_bytes());
                body.extend(bytes);
                body.resize(body.len().max(SMALL.max_frame + 1), b'x');
                wire.extend(frame(&body));
                // Read only if a claimed end falls inside this frame, where
                // its body is searched instead of skipped.
                let cut_inside = start < swallowed_to && swallowed_to < wire.len();
                if tainted || cut_inside {
                    may.push(inner);
                }
            }
            Piece::Lying { body, extra } => {
                let header = format!("Content-Length: {}\r\n\r\n", body.len() + extra);
                wire.extend(header.as_bytes());
                wire.extend(body);
                // A header that began inside swallowed bytes is no header.
                if start >= swallowed_to {
                    swallowed_to = wire.len() + extra;
                }
            }
        }
        // Did a claimed end fall strictly inside this piece, before a header?
        if start < swallowed_to && swallowed_to < wire.len() {
            tainted |= has_length_header(&wire[swallowed_to..]);
        }
    }
    (wire, must, may)
}

fn markers(got: &[Result<String, String>]) -> Vec<u64> {
    bodies(got)
        .into_iter()
        .filter_map(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .filter_map(|v| v.get("valid").and_then(serde_json::Value::as_u64))
        .collect()
}

#[test]
fn every_valid_frame_after_a_clean_boundary_is_read_whatever_came_before() {
    let mut runner = TestRunner::new(Config {
        cases: 512,
        ..Config::default()
    });
    let strategy = (prop::collection::vec(piece(), 1..40), 1..300usize);
    runner
        .run(&strategy, |(pieces, chunk)| {
            let (wire, must, may) = build(&pieces);
            let mut framer = Framer::new(SMALL);
            let mut got = Vec::new();
            for piece in wire.chunks(chunk) {
                framer.push(piece);
                prop_assert!(
                    framer.buffered() <= SMALL.max_header + 4 + chunk,
                    "{} bytes buffered",
                    framer.buffered()
                );
                while let Some(frame) = framer.next() {
                    got.push(match frame {
                        Frame::Body(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
                        Frame::Bad(m) => Err(m),
                    });
                }
            }
            let read = markers(&got);
            for n in &must {
                prop_assert!(read.contains(n), "marker {n} lost; read {read:?}");
            }
            for n in &read {
                prop_assert!(may.contains(n), "marker {n} read from a skipped body");
            }
            let mut sorted = read.clone();
            sorted.sort_unstable();
            sorted.dedup();
            prop_assert_eq!(sorted.len(), read.len(), "a marker read twice");
            Ok(())
        })
        .unwrap();
}
