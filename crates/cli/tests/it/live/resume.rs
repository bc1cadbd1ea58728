//! 断点续传 through the real server: a 1 GiB recording sent in 8 MiB chunks survives a
//! connection dropped in the middle of a chunk and the server being killed and started
//! again; the stored file has the SHA-256 of what was sent, no chunk is left behind, and
//! the server that assembles the file stays under 100 MiB peak memory.

use super::*;

/// Chunk size the page's script sends (`views::uploads::CHUNK_BYTES`).
const CHUNK: u64 = 8 * MIB;

struct Resumable {
    token: String,
    csrf: String,
}

impl Resumable {
    fn start(site: &mut Site, size: u64) -> Resumable {
        let csrf = site.liaison.csrf.clone().expect("a CSRF token");
        let r = site.liaison.post_form(
            &format!("/tasks/{}/uploads", site.task),
            &[
                ("name", "执法记录仪-2027-03-18.mp4"),
                ("size", &size.to_string()),
                ("title", "现场执法全过程记录"),
            ],
        );
        assert_eq!(r.status, 200, "{r:?}");
        let answer: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
        assert_eq!(answer["chunk_bytes"], CHUNK);
        Resumable {
            token: answer["upload"].as_str().expect("token").to_string(),
            csrf,
        }
    }

    fn headers(&self, site: &Site) -> Vec<String> {
        vec![
            format!("X-CSRF-Token: {}", self.csrf),
            format!(
                "Cookie: {}",
                site.liaison.cookie.as_deref().expect("logged in")
            ),
        ]
    }

    /// How far the server got.
    fn offset(&self, site: &Site) -> u64 {
        let r = try_request(
            site.server().port,
            "GET",
            &format!("/uploads/{}", self.token),
            &self.headers(site),
            b"",
        )
        .expect("GET the upload");
        assert_eq!(r.status, 200, "{r:?}");
        let answer: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
        answer["offset"].as_u64().expect("offset")
    }

    /// Sends the generated content from `from` up to `to`, chunk by chunk.
    fn send(&self, site: &Site, from: u64, to: u64) {
        let mut buf = vec![0u8; CHUNK as usize];
        let mut offset = from;
        while offset < to {
            let len = CHUNK.min(to - offset);
            fill(offset, &mut buf[..len as usize]);
            let mut headers = self.headers(site);
            headers.push(format!("Upload-Offset: {offset}"));
            headers.push("Content-Type: application/octet-stream".into());
            let r = try_request(
                site.server().port,
                "PATCH",
                &format!("/uploads/{}", self.token),
                &headers,
                &buf[..len as usize],
            )
            .expect("PATCH a chunk");
            assert_eq!(r.status, 200, "chunk at {offset}: {r:?}");
            let answer: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
            assert_eq!(answer["offset"], offset + len);
            offset += len;
        }
    }

    /// Half a chunk, then the connection goes.
    fn drop_mid_chunk(&self, site: &Site, offset: u64) {
        let mut buf = vec![0u8; CHUNK as usize];
        fill(offset, &mut buf);
        let mut stream = TcpStream::connect(("127.0.0.1", site.server().port)).expect("connect");
        let mut head = format!(
            "PATCH /uploads/{} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {CHUNK}\r\n\
             Upload-Offset: {offset}\r\nContent-Type: application/octet-stream\r\n",
            self.token
        );
        for h in self.headers(site) {
            head.push_str(&h);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).expect("head");
        stream
            .write_all(&buf[..(CHUNK / 2) as usize])
            .expect("half a chunk");
        stream.shutdown(Shutdown::Both).ok();
    }

    fn finish(&self, site: &Site) -> Resp {
        try_request(
            site.server().port,
            "POST",
            &format!("/uploads/{}/finish", self.token),
            &self.headers(site),
            b"",
        )
        .expect("finish")
    }
}

/// The generated content's bytes from `offset` (a multiple of [`BLOCK`]).
fn fill(offset: u64, buf: &mut [u8]) {
    assert_eq!(offset % BLOCK, 0);
    for (i, block) in buf.chunks_mut(BLOCK as usize).enumerate() {
        fill_block(offset / BLOCK + i as u64, block);
    }
}

#[test]
fn one_gib_resumed_after_a_drop_and_a_restart_keeps_its_hash_and_memory_low() {
    let mut site = Site::prepare("resume");
    let hash = expected_sha256(GIB);
    let started = Instant::now();
    let upload = Resumable::start(&mut site, GIB);

    upload.send(&site, 0, 304 * MIB);
    // The connection drops in the middle of a chunk: nothing of it counts.
    upload.drop_mid_chunk(&site, 304 * MIB);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(upload.offset(&site), 304 * MIB, "{}", site.log());
    upload.send(&site, 304 * MIB, 608 * MIB);
    let first_peak_kib = site.server().peak_rss_kib();

    // The server dies and comes back: every acknowledged chunk is still there.
    site.kill();
    site.restart();
    assert_eq!(upload.offset(&site), 608 * MIB, "{}", site.log());
    upload.send(&site, 608 * MIB, GIB);
    let r = upload.finish(&site);
    let elapsed = started.elapsed();
    assert_eq!(r.status, 200, "{r:?}\n{}", site.log());
    let answer: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
    assert_eq!(
        answer["location"],
        format!("/tasks/{}#evidence", site.task).as_str()
    );
    let peak_kib = site.server().peak_rss_kib();
    let expected = hash.join().expect("sha256sum thread");
    println!(
        "1 GiB resumable upload (8 MiB chunks, one drop, one restart) over loopback: {:.2} s; \
         server VmHWM {:.1} MiB before the restart, {:.1} MiB for the rest and the assembly; \
         sha256 {expected}",
        elapsed.as_secs_f64(),
        first_peak_kib as f64 / 1024.0,
        peak_kib as f64 / 1024.0,
    );
    assert!(
        first_peak_kib < PEAK_LIMIT_KIB && peak_kib < PEAK_LIMIT_KIB,
        "server peak RSS {first_peak_kib} / {peak_kib} KiB is not under {PEAK_LIMIT_KIB} KiB"
    );

    let blob = site
        .dir
        .files()
        .join("blobs")
        .join(&expected[..2])
        .join(&expected);
    let meta = std::fs::metadata(&blob)
        .unwrap_or_else(|e| panic!("no file at the content address {}: {e}", blob.display()));
    assert_eq!(meta.len(), GIB);
    assert_eq!(
        site.dir.stray_files(),
        vec![blob.clone()],
        "only the blob: no chunk and no temporary file left"
    );
    let page = site.liaison.get(&format!("/tasks/{}", site.task));
    assert!(page.body.contains("现场执法全过程记录"), "{}", page.body);
    assert!(page.body.contains("1 GiB"), "{}", page.body);

    site.stop();
    let db = site.dir.database(site.task);
    assert_eq!(db.evidence.len(), 1, "{db:?}");
    assert_eq!(db.evidence[0].0.as_deref(), Some(expected.as_str()));
    assert_eq!(db.evidence[0].1, Some(GIB));
}
