//! A video's first picture, for the thumbnail WhatsApp shows before the download: the first
//! sample of the MP4's H.264 track, with the parameter sets of its `avcC` box, decoded by
//! OpenH264 and turned the way the track header's matrix says (phones store portrait video
//! on its side).
//!
//! Only H.264 (`avc1`/`avc3`): what phones record and WhatsApp plays. HEVC and other codecs,
//! and files whose first sample is not a key frame, go without a thumbnail.

use super::{be32, be64, boxes, child};

/// The largest picture decoded for a thumbnail (4K UHD); larger ones go without.
const MAX_PIXELS: u64 = 3840 * 2160;

/// The first picture of `file`'s video track, upright.
pub fn first_frame(file: &[u8]) -> Option<image::RgbImage> {
    let moov = child(file, b"moov")?;
    let track = boxes(moov)
        .filter(|(kind, _)| kind == b"trak")
        .find_map(|(_, trak)| VideoTrack::read(trak))?;
    let start = usize::try_from(track.first_offset).ok()?;
    let end = start.checked_add(usize::try_from(track.first_size).ok()?)?;
    let stream = annex_b(track.avcc, file.get(start..end)?)?;
    let picture = decode(&stream)?;
    Some(match track.quarter_turns {
        1 => image::imageops::rotate90(&picture),
        2 => image::imageops::rotate180(&picture),
        3 => image::imageops::rotate270(&picture),
        _ => picture,
    })
}

/// How many quarter turns clockwise the track header's matrix turns the picture (0 to 3);
/// `None` for a matrix that is not a plain rotation.
pub fn quarter_turns(tkhd: &[u8]) -> Option<u8> {
    let at = match *tkhd.first()? {
        0 => 40,
        1 => 52,
        _ => return None,
    };
    // a, b, c, d of the 16.16 matrix: rows (a b u), (c d v).
    let cell = |i: usize| be32(tkhd, at + 4 * i).map(|v| v as i32);
    match (cell(0)?, cell(1)?, cell(3)?, cell(4)?) {
        (0x1_0000, 0, 0, 0x1_0000) => Some(0),
        (0, 0x1_0000, -0x1_0000, 0) => Some(1),
        (-0x1_0000, 0, 0, -0x1_0000) => Some(2),
        (0, -0x1_0000, 0x1_0000, 0) => Some(3),
        _ => None,
    }
}

/// What a video track says about its first sample.
struct VideoTrack<'a> {
    /// The `AVCDecoderConfigurationRecord`: NAL length size and the SPS/PPS.
    avcc: &'a [u8],
    first_offset: u64,
    first_size: u32,
    quarter_turns: u8,
}

impl<'a> VideoTrack<'a> {
    fn read(trak: &'a [u8]) -> Option<Self> {
        let mdia = child(trak, b"mdia")?;
        // hdlr: version and flags, pre_defined, then the handler type.
        if child(mdia, b"hdlr")?.get(8..12)? != b"vide" {
            return None;
        }
        let tkhd = child(trak, b"tkhd")?;
        let (w, h) = super::tkhd_size(tkhd)?;
        if u64::from(w) * u64::from(h) > MAX_PIXELS {
            return None;
        }
        let stbl = child(child(mdia, b"minf")?, b"stbl")?;
        // stsd: version and flags, entry count, then the sample entries; a visual sample
        // entry has 78 bytes of fields before its own boxes.
        let (codec, entry) = boxes(child(stbl, b"stsd")?.get(8..)?).next()?;
        if codec != *b"avc1" && codec != *b"avc3" {
            return None;
        }
        let avcc = child(entry.get(78..)?, b"avcC")?;
        // stsz: version and flags, one size for all samples or 0, count, then each size.
        let stsz = child(stbl, b"stsz")?;
        let first_size = match be32(stsz, 4)? {
            0 => be32(stsz, 12)?,
            n => n,
        };
        // The first sample opens the first chunk.
        let first_offset = match child(stbl, b"stco") {
            Some(stco) => u64::from(be32(stco, 8)?),
            None => be64(child(stbl, b"co64")?, 8)?,
        };
        Some(Self {
            avcc,
            first_offset,
            first_size,
            quarter_turns: quarter_turns(tkhd).unwrap_or(0),
        })
    }
}

/// The parameter sets and the sample's NAL units as an Annex B stream (start codes instead of
/// length prefixes), which is what the decoder reads.
fn annex_b(avcc: &[u8], sample: &[u8]) -> Option<Vec<u8>> {
    const START: [u8; 4] = [0, 0, 0, 1];
    let length_size = usize::from(avcc.get(4)? & 3) + 1;
    let mut out = Vec::with_capacity(sample.len() + 64);
    let mut at = 5;
    // SPS count (low 5 bits), the SPSs, the PPS count, the PPSs: each with a 16-bit length.
    for mask in [0x1F, 0xFF] {
        let count = avcc.get(at)? & mask;
        at += 1;
        for _ in 0..count {
            let len = usize::from(u16::from_be_bytes(avcc.get(at..at + 2)?.try_into().ok()?));
            out.extend(START);
            out.extend(avcc.get(at + 2..at + 2 + len)?);
            at += 2 + len;
        }
    }
    let mut rest = sample;
    while !rest.is_empty() {
        let len = rest
            .get(..length_size)?
            .iter()
            .fold(0usize, |n, &b| n << 8 | usize::from(b));
        out.extend(START);
        out.extend(rest.get(length_size..length_size + len)?);
        rest = &rest[length_size + len..];
    }
    Some(out)
}

/// The first picture an Annex B stream decodes to, as RGB.
fn decode(stream: &[u8]) -> Option<image::RgbImage> {
    use openh264::{decoder::DecodedYUV, formats::YUVSource};
    let to_rgb = |yuv: &DecodedYUV| {
        let (w, h) = yuv.dimensions();
        let mut rgb = vec![0; w * h * 3];
        yuv.write_rgb8(&mut rgb);
        image::RgbImage::from_raw(u32::try_from(w).ok()?, u32::try_from(h).ok()?, rgb)
    };
    let mut decoder = openh264::decoder::Decoder::new().ok()?;
    if let Some(yuv) = decoder.decode(stream).ok()? {
        return to_rgb(&yuv);
    }
    // A decoder that holds the picture back (reordering) gives it up when flushed.
    let held = decoder.flush_remaining().ok()?;
    to_rgb(held.first()?)
}
