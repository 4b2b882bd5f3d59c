//! What WhatsApp shows of a file before it is downloaded, read from the file before it is
//! uploaded: a picture's size and a small JPEG thumbnail (the blurred preview in the chat), a
//! video's size, duration and thumbnail of its first picture ([`video`]), a sticker's size, how
//! long a voice note, a song or a video plays (Ogg Opus/Vorbis and MP4 from their headers, MP3
//! from its frames) and a voice note's waveform ([`audio`]).
//!
//! Every field is optional on the wire: a file this module cannot read sends exactly as before,
//! and phones show a plain placeholder or a flat waveform. The decoders run guarded: one that
//! panics on a strange file costs that field, never the send.

mod audio;
mod video;

use crate::media::MediaKind;
use std::io::Cursor;

/// Width of the JPEG thumbnail, as Baileys and WhatsApp Web make them: a placeholder, not a
/// picture.
const THUMB_WIDTH: u32 = 32;
/// JPEG quality of the thumbnail.
const THUMB_QUALITY: u8 = 50;
/// The most memory decoding a picture for its thumbnail may take; a larger picture still sends,
/// with its size from the header and no thumbnail.
const DECODE_LIMIT: u64 = 96 * 1024 * 1024;

/// The preview fields of a media message; each `None` when the file does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub jpeg_thumbnail: Option<Vec<u8>>,
    pub seconds: Option<u32>,
    /// A voice note's 64 bars, 0 to 100.
    pub waveform: Option<Vec<u8>>,
}

/// Reads the preview of a file about to be sent as `kind`. CPU-bound (pictures, the first
/// picture of a video and voice notes are decoded): call it off the async threads.
pub fn of(kind: MediaKind, bytes: &[u8]) -> Preview {
    match kind {
        MediaKind::Image => picture(bytes, true),
        MediaKind::Sticker => picture(bytes, false),
        MediaKind::Audio => Preview {
            seconds: audio_seconds(bytes),
            ..Preview::default()
        },
        MediaKind::Voice => Preview {
            seconds: audio_seconds(bytes),
            waveform: guarded(|| audio::waveform(bytes)),
            ..Preview::default()
        },
        MediaKind::Video => {
            let mut p = mp4(bytes);
            p.jpeg_thumbnail = guarded(|| video::first_frame(bytes)).and_then(|frame| {
                let (w, h) = frame.dimensions();
                // The size shown is the upright picture's (a phone's portrait video is stored
                // on its side, turned by the track header).
                (p.width, p.height) = (Some(w), Some(h));
                jpeg_thumbnail(&image::DynamicImage::ImageRgb8(frame))
            });
            p
        }
        MediaKind::Document => Preview::default(),
    }
}

fn audio_seconds(bytes: &[u8]) -> Option<u32> {
    ogg_seconds(bytes)
        .or_else(|| mp4(bytes).seconds)
        .or_else(|| guarded(|| audio::symphonia_seconds(bytes)))
}

/// Runs a decoder so that a panic inside it (a bug met on a strange file) costs only what it
/// was reading.
fn guarded<T>(read: impl FnOnce() -> Option<T>) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read))
        .ok()
        .flatten()
}

fn picture(bytes: &[u8], thumbnail: bool) -> Preview {
    let reader = || {
        image::ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .ok()
    };
    // The size comes from the header alone, whatever decoding it would take.
    let header = reader().and_then(|mut r| {
        r.no_limits();
        r.into_dimensions().ok()
    });
    let Some((width, height)) = header else {
        return Preview::default();
    };
    let jpeg_thumbnail = thumbnail
        .then(|| {
            let mut r = reader()?;
            let mut limits = image::Limits::default();
            limits.max_alloc = Some(DECODE_LIMIT);
            r.limits(limits);
            jpeg_thumbnail(&r.decode().ok()?)
        })
        .flatten();
    Preview {
        width: Some(width),
        height: Some(height),
        jpeg_thumbnail,
        ..Preview::default()
    }
}

/// The small JPEG WhatsApp shows until the download: `THUMB_WIDTH` wide, the picture's shape.
fn jpeg_thumbnail(full: &image::DynamicImage) -> Option<Vec<u8>> {
    let (width, height) = (full.width(), full.height());
    let h = (u64::from(THUMB_WIDTH) * u64::from(height) / u64::from(width.max(1))).max(1);
    let small = full.thumbnail(THUMB_WIDTH, u32::try_from(h).unwrap_or(THUMB_WIDTH));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, THUMB_QUALITY)
        .encode_image(&small.to_rgb8())
        .ok()?;
    Some(out)
}

/// How long an Ogg stream plays: the last page's granule position (samples) less the Opus
/// pre-skip, at 48 kHz for Opus or the Vorbis header's rate.
fn ogg_seconds(bytes: &[u8]) -> Option<u32> {
    if !bytes.starts_with(b"OggS") {
        return None;
    }
    let head = &bytes[..bytes.len().min(4096)];
    let (rate, pre_skip) = if let Some(at) = find(head, b"OpusHead") {
        let skip = head.get(at + 10..at + 12)?;
        (48_000u64, u64::from(u16::from_le_bytes([skip[0], skip[1]])))
    } else if let Some(at) = find(head, b"\x01vorbis") {
        let r = head.get(at + 12..at + 16)?;
        (u64::from(u32::from_le_bytes([r[0], r[1], r[2], r[3]])), 0)
    } else {
        return None;
    };
    // The last page: its granule position counts every sample before its end.
    let last = rfind(bytes, b"OggS")?;
    let g = bytes.get(last + 6..last + 14)?;
    let granule = u64::from_le_bytes(g.try_into().ok()?);
    if rate == 0 || granule == u64::MAX {
        return None;
    }
    u32::try_from(granule.saturating_sub(pre_skip).div_ceil(rate)).ok()
}

/// An MP4/QuickTime file's duration (`moov/mvhd`) and its picture's size (the first `tkhd` with
/// one).
fn mp4(bytes: &[u8]) -> Preview {
    let mut p = Preview::default();
    let Some(moov) = child(bytes, b"moov") else {
        return p;
    };
    for (kind, body) in boxes(moov) {
        match &kind {
            b"mvhd" => p.seconds = mvhd_seconds(body),
            b"trak" if p.width.is_none() => {
                if let Some((w, h)) = child(body, b"tkhd").and_then(tkhd_size) {
                    (p.width, p.height) = (Some(w), Some(h));
                }
            }
            _ => {}
        }
    }
    p
}

fn mvhd_seconds(b: &[u8]) -> Option<u32> {
    let (scale, duration) = match *b.first()? {
        0 => (be32(b, 12)?, u64::from(be32(b, 16)?)),
        1 => (be32(b, 20)?, be64(b, 24)?),
        _ => return None,
    };
    if scale == 0 {
        return None;
    }
    u32::try_from(duration.div_ceil(u64::from(scale))).ok()
}

/// Width and height (16.16 fixed point) of a track header; `None` for a track without a picture.
fn tkhd_size(b: &[u8]) -> Option<(u32, u32)> {
    let at = match *b.first()? {
        0 => 76,
        1 => 88,
        _ => return None,
    };
    let (w, h) = (be32(b, at)? >> 16, be32(b, at + 4)? >> 16);
    (w > 0 && h > 0).then_some((w, h))
}

/// The boxes of one level of an MP4 file: (type, body). Stops at the first malformed size.
fn boxes(mut bytes: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        let size = be32(bytes, 0)?;
        let kind: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
        let (header, len) = match size {
            0 => (8, bytes.len()),
            1 => (16, usize::try_from(be64(bytes, 8)?).ok()?),
            n => (8, usize::try_from(n).ok()?),
        };
        if len < header || len > bytes.len() {
            return None;
        }
        let body = &bytes[header..len];
        bytes = &bytes[len..];
        Some((kind, body))
    })
}

/// The body of the first box of type `kind` on one level.
fn child<'a>(level: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(level).find(|(t, _)| t == kind).map(|(_, b)| b)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 4) as u8, 128])
        });
        let mut out = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, image::ImageFormat::Png)
            .expect("png");
        out.into_inner()
    }

    #[test]
    fn a_picture_gets_its_size_and_a_small_jpeg_thumbnail() {
        let p = of(MediaKind::Image, &png(64, 48));
        assert_eq!((p.width, p.height, p.seconds), (Some(64), Some(48), None));
        let thumb = p.jpeg_thumbnail.expect("thumbnail");
        assert!(thumb.starts_with(&[0xFF, 0xD8]), "a JPEG");
        let small = image::load_from_memory(&thumb).expect("decodes");
        assert_eq!((small.width(), small.height()), (32, 24));
        let sticker = of(MediaKind::Sticker, &png(512, 512));
        assert_eq!((sticker.width, sticker.jpeg_thumbnail), (Some(512), None));
    }

    /// PNG's chunk checksum (CRC-32, ISO-HDLC).
    fn crc32(data: &[u8]) -> u32 {
        let mut c = u32::MAX;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }

    #[test]
    fn a_picture_too_big_to_decode_keeps_its_header_size_and_what_is_not_one_gets_nothing() {
        // A PNG whose header announces 30,000 × 30,000 pixels (2.7 GB to decode) over the
        // pixel data of one: the header's checksum made right again.
        let mut huge = png(1, 1);
        huge[16..20].copy_from_slice(&30_000u32.to_be_bytes());
        huge[20..24].copy_from_slice(&30_000u32.to_be_bytes());
        let crc = crc32(&huge[12..29]);
        huge[29..33].copy_from_slice(&crc.to_be_bytes());
        let p = of(MediaKind::Image, &huge);
        assert_eq!(
            (p.width, p.height, p.jpeg_thumbnail),
            (Some(30_000), Some(30_000), None)
        );
        assert_eq!(
            of(MediaKind::Image, b"%PDF-1.7 not a picture"),
            Preview::default()
        );
        assert_eq!(of(MediaKind::Document, &png(8, 8)), Preview::default());
        assert_eq!(of(MediaKind::Voice, b"OggS but cut"), Preview::default());
        assert_eq!(
            of(MediaKind::Video, &[0, 0, 0, 99, b'm', b'o']),
            Preview::default()
        );
    }

    /// An Ogg page: capture pattern, version, type, granule, serial, sequence, CRC, one segment.
    fn ogg_page(granule: u64, packet: &[u8]) -> Vec<u8> {
        let mut p = b"OggS\0\0".to_vec();
        p.extend(granule.to_le_bytes());
        p.extend([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        p.push(1);
        p.push(u8::try_from(packet.len()).expect("short"));
        p.extend(packet);
        p
    }

    #[test]
    fn a_voice_note_says_how_long_it_plays() {
        // Opus: 48 kHz, less the pre-skip (312 samples); 6.5 s rounds up to 7.
        let mut head = b"OpusHead\x01\x01".to_vec();
        head.extend(312u16.to_le_bytes());
        head.extend(48_000u32.to_le_bytes());
        let mut opus = ogg_page(0, &head);
        opus.extend(ogg_page(0, b"OpusTags"));
        opus.extend(ogg_page(48_000 * 13 / 2 + 312, &[0xFC; 40]));
        assert_eq!(of(MediaKind::Voice, &opus).seconds, Some(7));
        // Vorbis: its own rate.
        let mut ident = b"\x01vorbis\0\0\0\0\x01".to_vec();
        ident.extend(44_100u32.to_le_bytes());
        let mut vorbis = ogg_page(0, &ident);
        vorbis.extend(ogg_page(44_100 * 3, &[0; 10]));
        assert_eq!(of(MediaKind::Audio, &vorbis).seconds, Some(3));
    }

    fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = u32::try_from(body.len() + 8)
            .expect("small")
            .to_be_bytes()
            .to_vec();
        b.extend(kind);
        b.extend(body);
        b
    }

    #[test]
    fn a_video_says_how_long_it_plays_and_how_big_it_is() {
        let mut mvhd = vec![0u8; 100];
        mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
        mvhd[16..20].copy_from_slice(&12_500u32.to_be_bytes());
        let sound = {
            let t = vec![0u8; 84];
            mp4_box(b"trak", &mp4_box(b"tkhd", &t))
        };
        let picture = {
            let mut t = vec![0u8; 84];
            t[76..80].copy_from_slice(&(640u32 << 16).to_be_bytes());
            t[80..84].copy_from_slice(&(360u32 << 16).to_be_bytes());
            mp4_box(b"trak", &mp4_box(b"tkhd", &t))
        };
        let moov = [mp4_box(b"mvhd", &mvhd), sound, picture].concat();
        // The media data first, as cameras write it; the header box last.
        let file = [
            mp4_box(b"ftyp", b"isom\0\0\0\0"),
            mp4_box(b"mdat", &[7; 64]),
            mp4_box(b"moov", &moov),
        ]
        .concat();
        let p = of(MediaKind::Video, &file);
        assert_eq!(
            (p.width, p.height, p.seconds),
            (Some(640), Some(360), Some(13))
        );
        assert_eq!(p.jpeg_thumbnail, None, "no H.264 track: no thumbnail");
        assert_eq!(of(MediaKind::Audio, &file).seconds, Some(13), "an .m4a too");
    }

    /// A picture `w` × `h`, red on the left half and blue on the right, as one H.264 key frame:
    /// its NAL units without start codes.
    fn h264_picture(w: usize, h: usize) -> Vec<Vec<u8>> {
        use openh264::formats::{RgbSliceU8, YUVBuffer};
        let rgb: Vec<u8> = (0..h)
            .flat_map(|_| {
                (0..w).flat_map(|x| {
                    if x < w / 2 {
                        [220, 20, 20]
                    } else {
                        [20, 20, 220]
                    }
                })
            })
            .collect();
        let yuv = YUVBuffer::from_rgb_source(RgbSliceU8::new(&rgb, (w, h)));
        let mut encoder = openh264::encoder::Encoder::new().expect("encoder");
        let stream = encoder.encode(&yuv).expect("encodes").to_vec();
        openh264::nal_units(&stream)
            .map(|nal| {
                let skip = if nal.starts_with(&[0, 0, 0, 1]) { 4 } else { 3 };
                nal[skip..].to_vec()
            })
            .collect()
    }

    /// An MP4 file as a phone writes it (media first, header last) with one H.264 video track
    /// of one sample; `turn` is the track header's matrix (a, b, c, d).
    fn mp4_video(w: usize, h: usize, turn: [i32; 4]) -> Vec<u8> {
        let nals = h264_picture(w, h);
        let of_type = |t: u8| {
            nals.iter()
                .find(|n| n[0] & 0x1F == t)
                .expect("parameter set")
        };
        let (sps, pps) = (of_type(7), of_type(8));
        let sample: Vec<u8> = nals
            .iter()
            .filter(|n| !matches!(n[0] & 0x1F, 7 | 8))
            .flat_map(|n| [&(n.len() as u32).to_be_bytes()[..], n].concat())
            .collect();
        let mut avcc = vec![1, sps[1], sps[2], sps[3], 0xFF, 0xE1];
        avcc.extend((sps.len() as u16).to_be_bytes());
        avcc.extend(sps);
        avcc.push(1);
        avcc.extend((pps.len() as u16).to_be_bytes());
        avcc.extend(pps);
        let avc1 = [vec![0u8; 78], mp4_box(b"avcC", &avcc)].concat();
        let stsd = [vec![0, 0, 0, 0, 0, 0, 0, 1], mp4_box(b"avc1", &avc1)].concat();
        let mut stsz = vec![0u8; 8];
        stsz.extend(1u32.to_be_bytes());
        stsz.extend((sample.len() as u32).to_be_bytes());
        let ftyp = mp4_box(b"ftyp", b"isom\0\0\0\0");
        let mut stco = vec![0, 0, 0, 0, 0, 0, 0, 1];
        stco.extend((ftyp.len() as u32 + 8).to_be_bytes());
        let stbl = [
            mp4_box(b"stsd", &stsd),
            mp4_box(b"stsz", &stsz),
            mp4_box(b"stco", &stco),
        ]
        .concat();
        let hdlr = [&[0u8; 8][..], b"vide", &[0; 12]].concat();
        let mdia = [
            mp4_box(b"hdlr", &hdlr),
            mp4_box(b"minf", &mp4_box(b"stbl", &stbl)),
        ]
        .concat();
        let mut tkhd = vec![0u8; 84];
        for (i, at) in [40, 44, 52, 56].into_iter().enumerate() {
            tkhd[at..at + 4].copy_from_slice(&(turn[i] << 16).to_be_bytes());
        }
        tkhd[64..68].copy_from_slice(&(1u32 << 30).to_be_bytes());
        tkhd[76..80].copy_from_slice(&((w as u32) << 16).to_be_bytes());
        tkhd[80..84].copy_from_slice(&((h as u32) << 16).to_be_bytes());
        let trak = [mp4_box(b"tkhd", &tkhd), mp4_box(b"mdia", &mdia)].concat();
        let mut mvhd = vec![0u8; 100];
        mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
        mvhd[16..20].copy_from_slice(&2_000u32.to_be_bytes());
        let moov = [mp4_box(b"mvhd", &mvhd), mp4_box(b"trak", &trak)].concat();
        [ftyp, mp4_box(b"mdat", &sample), mp4_box(b"moov", &moov)].concat()
    }

    fn rgb_at(jpeg: &[u8], x: u32, y: u32) -> [u8; 3] {
        let picture = image::load_from_memory(jpeg).expect("a JPEG").to_rgb8();
        picture.get_pixel(x, y).0
    }

    #[test]
    fn a_video_gets_a_thumbnail_of_its_first_picture_turned_upright() {
        let p = of(MediaKind::Video, &mp4_video(64, 48, [1, 0, 0, 1]));
        assert_eq!(
            (p.width, p.height, p.seconds),
            (Some(64), Some(48), Some(2))
        );
        let thumb = p.jpeg_thumbnail.expect("a thumbnail");
        let small = image::load_from_memory(&thumb).expect("a JPEG");
        assert_eq!((small.width(), small.height()), (32, 24));
        let [r, _, b] = rgb_at(&thumb, 3, 12);
        assert!(r > b + 100, "red on the left: {r} {b}");
        let [r, _, b] = rgb_at(&thumb, 28, 12);
        assert!(b > r + 100, "blue on the right: {r} {b}");

        // Recorded in portrait: stored on its side, turned a quarter clockwise by the header.
        let p = of(MediaKind::Video, &mp4_video(64, 48, [0, 1, -1, 0]));
        assert_eq!((p.width, p.height), (Some(48), Some(64)));
        let thumb = p.jpeg_thumbnail.expect("a thumbnail");
        let small = image::load_from_memory(&thumb).expect("a JPEG");
        assert_eq!((small.width(), small.height()), (32, 42));
        let [r, _, b] = rgb_at(&thumb, 16, 3);
        assert!(r > b + 100, "the left side is on top now: {r} {b}");
        let [r, _, b] = rgb_at(&thumb, 16, 38);
        assert!(b > r + 100, "the right side at the bottom: {r} {b}");

        // A damaged sample keeps the size and the duration, without a thumbnail.
        let mut broken = mp4_video(64, 48, [1, 0, 0, 1]);
        let mdat = find(&broken, b"mdat").expect("mdat") + 4;
        broken[mdat + 8..mdat + 40].fill(0xFF);
        let p = of(MediaKind::Video, &broken);
        assert_eq!(
            (p.width, p.seconds, p.jpeg_thumbnail),
            (Some(64), Some(2), None)
        );
    }

    /// An Ogg Opus voice note of `seconds`, 16 kHz mono, whose samples `signal` gives.
    fn voice_note(seconds: usize, signal: impl Fn(usize) -> f32) -> Vec<u8> {
        use ogg::PacketWriteEndInfo::{EndPage, EndStream, NormalPacket};
        let mut encoder =
            opus_rs::OpusEncoder::new(16_000, 1, opus_rs::Application::Voip).expect("encoder");
        let mut out = ogg::PacketWriter::new(Vec::new());
        let mut head = b"OpusHead\x01\x01".to_vec();
        head.extend(0u16.to_le_bytes());
        head.extend(16_000u32.to_le_bytes());
        head.extend([0, 0, 0]);
        out.write_packet(head, 7, EndPage, 0).expect("head");
        out.write_packet(b"OpusTags\0\0\0\0\0\0\0\0".to_vec(), 7, EndPage, 0)
            .expect("tags");
        let frames = seconds * 50;
        for i in 0..frames {
            let pcm: Vec<f32> = (0..320).map(|j| signal(i * 320 + j)).collect();
            let mut packet = [0u8; 1500];
            let n = encoder.encode(&pcm, 320, &mut packet).expect("encodes");
            let end = if i + 1 == frames {
                EndStream
            } else {
                NormalPacket
            };
            out.write_packet(packet[..n].to_vec(), 7, end, ((i + 1) * 960) as u64)
                .expect("packet");
        }
        out.into_inner()
    }

    #[test]
    fn a_voice_note_gets_the_waveform_of_what_it_says() {
        // Two seconds: a loud tone, then silence.
        let note = voice_note(2, |i| {
            if i < 16_000 {
                0.6 * (i as f32 * 440.0 * std::f32::consts::TAU / 16_000.0).sin()
            } else {
                0.0
            }
        });
        let p = of(MediaKind::Voice, &note);
        assert_eq!(p.seconds, Some(2));
        let bars = p.waveform.expect("a waveform");
        assert_eq!(bars.len(), 64);
        assert_eq!(bars.iter().max(), Some(&100));
        assert!(bars[2..30].iter().all(|&b| b > 60), "loud first: {bars:?}");
        assert!(bars[36..].iter().all(|&b| b < 10), "then quiet: {bars:?}");
        // A song sent as audio has no waveform; a voice note that is not Opus has none either.
        assert_eq!(of(MediaKind::Audio, &note).waveform, None);
        assert_eq!(of(MediaKind::Voice, b"OggS but cut").waveform, None);
    }

    /// `frames` MPEG-1 Layer III frames of silence (128 kbit/s, 44.1 kHz, 1,152 samples each)
    /// after an ID3v2 tag.
    fn mp3(frames: usize) -> Vec<u8> {
        let mut file = b"ID3\x04\0\0\0\0\0\x0a".to_vec();
        file.extend([0u8; 10]);
        for _ in 0..frames {
            file.extend([0xFF, 0xFB, 0x90, 0x64]);
            file.extend([0u8; 413]);
        }
        file
    }

    #[test]
    fn a_song_in_mp3_says_how_long_it_plays() {
        // 200 × 1,152 samples at 44.1 kHz: 5.2 s, rounded up.
        assert_eq!(of(MediaKind::Audio, &mp3(200)).seconds, Some(6));
        assert_eq!(of(MediaKind::Audio, &mp3(38)).seconds, Some(1));
        assert_eq!(of(MediaKind::Audio, b"#!AMR\n not mp3").seconds, None);
    }
}
