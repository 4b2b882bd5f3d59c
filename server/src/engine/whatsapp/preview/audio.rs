//! What a voice note or a song says before it is played: the waveform phones draw under a
//! voice note (its Opus decoded), and how long an MP3 plays (its frames counted).

use std::io::Cursor;

/// Bars in a voice note's waveform, as WhatsApp draws it.
const BARS: usize = 64;
/// The rate voice notes are decoded at for their waveform: the loudness of speech shows as
/// well at 8 kHz as at 48, for a sixth of the work.
const RATE: usize = 8_000;
/// Voice notes longer than this go without a waveform (the decoding would take seconds).
const MAX_WAVEFORM_SECONDS: usize = 15 * 60;

/// The waveform of an Ogg Opus voice note: 64 bars from 0 to 100, each the mean loudness of
/// its stretch, scaled so the loudest is 100 (as WhatsApp Web and Baileys make it). `None`
/// when the file is not Ogg Opus, is multichannel beyond stereo, or is too long.
pub fn waveform(file: &[u8]) -> Option<Vec<u8>> {
    let mut packets = ogg::PacketReader::new(Cursor::new(file));
    let head = packets.read_packet().ok()??;
    // OpusHead: magic, version, channels, pre-skip, rate, gain, mapping family.
    if !head.data.starts_with(b"OpusHead") || head.data.get(18).is_some_and(|&f| f > 1) {
        return None;
    }
    let _tags = packets.read_packet().ok()??;
    // Mono: a mono decoder takes stereo packets too (it downmixes).
    let mut decoder = opus_rs::OpusDecoder::new(RATE as i32, 1).ok()?;
    // The longest packet holds 120 ms.
    let most = RATE * 120 / 1000;
    let mut pcm = vec![0f32; most];
    // Per packet: how many samples, and the sum of their loudness.
    let mut stretches: Vec<(usize, f32)> = Vec::new();
    let mut total = 0usize;
    while let Some(packet) = packets.read_packet().ok()? {
        let n = decoder.decode(&packet.data, most, &mut pcm).ok()?;
        total += n;
        if total > RATE * MAX_WAVEFORM_SECONDS {
            return None;
        }
        stretches.push((n, pcm[..n].iter().map(|s| s.abs()).sum()));
    }
    if total == 0 {
        return None;
    }
    let mut bars = [(0f32, 0usize); BARS];
    let mut at = 0usize;
    for (n, loudness) in stretches {
        let bar = &mut bars[(at * BARS / total).min(BARS - 1)];
        bar.0 += loudness;
        bar.1 += n;
        at += n;
    }
    let means = bars.map(|(sum, n)| if n == 0 { 0.0 } else { sum / n as f32 });
    let loudest = means.iter().copied().fold(0f32, f32::max);
    Some(
        means
            .iter()
            .map(|m| {
                if loudest > 0.0 {
                    (m / loudest * 100.0).floor() as u8
                } else {
                    0
                }
            })
            .collect(),
    )
}

/// How long a file in any format symphonia reads here (MP3, WAV, AAC, Ogg Vorbis…) plays, in
/// whole seconds rounded up: every packet's samples counted (an ID3 tag before an MP3's
/// frames is skipped), so a variable bit rate without a Xing header is right too. The hint
/// only orders the probe: MP3, the common case, is tried first.
pub fn symphonia_seconds(file: &[u8]) -> Option<u32> {
    use symphonia::core::{
        formats::probe::Hint,
        formats::{FormatOptions, TrackType},
        io::MediaSourceStream,
        meta::MetadataOptions,
    };
    let source = MediaSourceStream::new(Box::new(Cursor::new(file)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let mut reader = symphonia::default::get_probe()
        .probe(
            &hint,
            source,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .ok()?;
    let track = reader.default_track(TrackType::Audio)?;
    let id = track.id;
    let base = track.time_base?;
    let mut ticks = 0u64;
    while let Ok(Some(packet)) = reader.next_packet() {
        if packet.track_id == id {
            ticks += packet.dur.get();
        }
    }
    let seconds = ticks.checked_mul(u64::from(base.numer.get()))?;
    u32::try_from(seconds.div_ceil(u64::from(base.denom.get()))).ok()
}
