//! Voice notes from other audio: WhatsApp plays a voice note only when it is Opus in an Ogg
//! file, so an MP3, WAV, M4A/AAC or Ogg Vorbis file sent as `"type":"voice"` is decoded
//! (symphonia), mixed to mono, brought to 48 kHz and encoded as Opus for speech (opus-rs), in
//! 20-ms packets in Ogg pages. Streamed: the source is read a packet at a time from its file and
//! only the (small) result is kept in memory.

use std::path::Path;

/// The formats converted; Opus in Ogg goes as it is.
pub const CONVERTS: [&str; 8] = [
    "audio/mpeg",
    "audio/x-wav",
    "audio/wav",
    "audio/mp4",
    "audio/m4a",
    "audio/x-m4a",
    "audio/aac",
    "audio/ogg",
];
/// The longest voice note converted; longer audio goes as a song (`"type":"audio"`).
pub const MAX_SECONDS: u64 = 15 * 60;
/// Opus's own rate: the encoder's resampler makes the 16 kHz speech band from it.
const RATE: u32 = 48_000;
/// 20 ms, what phones record in.
const FRAME: usize = 960;
/// What the encoder looks ahead (libopus: 2.5 ms + 4 ms at 48 kHz): players skip it.
const PRE_SKIP: u16 = 312;
/// Speech at WhatsApp's own voice-note quality.
const BITRATE: i32 = 32_000;
const SERIAL: u32 = 0x4B42_5200;

/// Whether a file's first bytes are already Opus in Ogg.
pub fn is_ogg_opus(head: &[u8]) -> bool {
    head.starts_with(b"OggS") && head.windows(8).take(128).any(|w| w == b"OpusHead")
}

/// Why a file could not become a voice note.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("Kabar cannot read this audio ({0})")]
    Unreadable(String),
    #[error("it plays longer than {} minutes", MAX_SECONDS / 60)]
    TooLong,
}

/// The Ogg Opus voice note of the audio file at `path`. CPU-bound: run it off the async threads.
pub fn to_ogg_opus(path: &Path) -> Result<Vec<u8>, ConvertError> {
    convert(path, MAX_SECONDS)
}

fn convert(path: &Path, max_seconds: u64) -> Result<Vec<u8>, ConvertError> {
    use symphonia::core::{
        codecs::audio::AudioDecoderOptions,
        formats::{FormatOptions, TrackType, probe::Hint},
        io::MediaSourceStream,
        meta::MetadataOptions,
    };
    let unreadable = |e: &dyn std::fmt::Display| ConvertError::Unreadable(e.to_string());
    let file = std::fs::File::open(path).map_err(|e| unreadable(&e))?;
    let source = MediaSourceStream::new(Box::new(file), Default::default());
    let mut reader = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            source,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| unreadable(&e))?;
    let track = reader
        .default_track(TrackType::Audio)
        .ok_or_else(|| unreadable(&"no audio track"))?;
    let id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| unreadable(&"no audio parameters"))?
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| unreadable(&e))?;
    let mut note = Note::new(max_seconds).map_err(|e| unreadable(&e))?;
    let mut interleaved: Vec<f32> = Vec::new();
    while let Some(packet) = reader.next_packet().map_err(|e| unreadable(&e))? {
        if packet.track_id != id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            // A damaged frame is skipped, as players do.
            Err(symphonia::core::errors::Error::DecodeError(_)) => continue,
            Err(e) => return Err(unreadable(&e)),
        };
        let channels = decoded.spec().channels().count().max(1);
        let rate = decoded.spec().rate();
        decoded.copy_to_vec_interleaved(&mut interleaved);
        for frame in interleaved.chunks(channels) {
            note.push(frame.iter().sum::<f32>() / channels as f32, rate)?;
        }
    }
    note.finish()
}

/// The Opus encoder and the Ogg pages of the note being made.
struct Note {
    encoder: opus_rs::OpusEncoder,
    pages: ogg::PacketWriter<'static, Vec<u8>>,
    frame: Vec<f32>,
    /// Samples at 48 kHz encoded so far (the Ogg granule position, less the pre-skip).
    written: u64,
    max_samples: u64,
    /// Linear resampling to 48 kHz: where the next output sample falls between the last input
    /// sample and the next one, and the last input sample (none before the first).
    phase: f64,
    last: Option<f32>,
}

impl Note {
    fn new(max_seconds: u64) -> Result<Self, &'static str> {
        let mut encoder = opus_rs::OpusEncoder::new(RATE as i32, 1, opus_rs::Application::Voip)?;
        encoder.bitrate_bps = BITRATE;
        let mut pages = ogg::PacketWriter::new(Vec::new());
        // RFC 7845: the identification header, then the comment header, each on its own page.
        let mut head = b"OpusHead\x01\x01".to_vec();
        head.extend(PRE_SKIP.to_le_bytes());
        head.extend(RATE.to_le_bytes());
        head.extend([0, 0, 0]);
        let mut tags = b"OpusTags".to_vec();
        let vendor = b"Kabar";
        tags.extend((vendor.len() as u32).to_le_bytes());
        tags.extend(vendor);
        tags.extend(0u32.to_le_bytes());
        for header in [head, tags] {
            pages
                .write_packet(header, SERIAL, ogg::PacketWriteEndInfo::EndPage, 0)
                .map_err(|_| "writing the Ogg header")?;
        }
        Ok(Self {
            encoder,
            pages,
            frame: Vec::with_capacity(FRAME),
            written: 0,
            max_samples: max_seconds * u64::from(RATE),
            phase: 0.0,
            last: None,
        })
    }

    /// Takes one mono sample at `rate` Hz.
    fn push(&mut self, sample: f32, rate: u32) -> Result<(), ConvertError> {
        // Output samples fall every rate/48000 input samples; each lies between `last` and
        // `sample`. Upsampling (44.1 kHz → 48) is all real files need, and the encoder filters
        // what lies above speech.
        let step = f64::from(rate) / f64::from(RATE);
        let Some(last) = self.last.replace(sample) else {
            return Ok(());
        };
        while self.phase < 1.0 {
            let t = self.phase as f32;
            self.frame.push(last + (sample - last) * t);
            self.phase += step;
            if self.frame.len() == FRAME {
                self.encode(ogg::PacketWriteEndInfo::NormalPacket)?;
            }
        }
        self.phase -= 1.0;
        Ok(())
    }

    fn encode(&mut self, end: ogg::PacketWriteEndInfo) -> Result<(), ConvertError> {
        // The last packet is padded with silence; its granule position says where sound ends.
        let end_of_sound = self.written + self.frame.len() as u64;
        self.frame.resize(FRAME, 0.0);
        self.written += FRAME as u64;
        if self.written > self.max_samples {
            return Err(ConvertError::TooLong);
        }
        let mut packet = [0u8; 1275];
        let n = self
            .encoder
            .encode(&self.frame, FRAME, &mut packet)
            .map_err(|e| ConvertError::Unreadable(e.to_string()))?;
        self.pages
            .write_packet(
                packet[..n].to_vec(),
                SERIAL,
                end,
                end_of_sound + u64::from(PRE_SKIP),
            )
            .map_err(|e| ConvertError::Unreadable(e.to_string()))?;
        self.frame.clear();
        Ok(())
    }

    /// The last (padded) packet ends the stream; the file's bytes.
    fn finish(mut self) -> Result<Vec<u8>, ConvertError> {
        if self.written == 0 && self.frame.is_empty() {
            return Err(ConvertError::Unreadable("no sound in it".into()));
        }
        self.encode(ogg::PacketWriteEndInfo::EndStream)?;
        Ok(self.pages.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{engine::whatsapp::preview, media::MediaKind};

    /// A 16-bit PCM WAV file of `channels` at `rate` Hz, `samples` frames from `signal`.
    fn wav(rate: u32, channels: u16, samples: usize, signal: impl Fn(usize) -> f32) -> Vec<u8> {
        let data_len = (samples * usize::from(channels) * 2) as u32;
        let mut f = b"RIFF".to_vec();
        f.extend((36 + data_len).to_le_bytes());
        f.extend(b"WAVEfmt ");
        f.extend(16u32.to_le_bytes());
        f.extend(1u16.to_le_bytes());
        f.extend(channels.to_le_bytes());
        f.extend(rate.to_le_bytes());
        f.extend((rate * u32::from(channels) * 2).to_le_bytes());
        f.extend((channels * 2).to_le_bytes());
        f.extend(16u16.to_le_bytes());
        f.extend(b"data");
        f.extend(data_len.to_le_bytes());
        for i in 0..samples {
            let v = (signal(i).clamp(-1.0, 1.0) * 32_000.0) as i16;
            for _ in 0..channels {
                f.extend(v.to_le_bytes());
            }
        }
        f
    }

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        std::io::Write::write_all(&mut f, bytes).expect("written");
        f
    }

    #[test]
    fn a_wav_becomes_an_opus_voice_note_that_says_the_same() {
        // Two seconds of CD-rate stereo: a loud tone, then silence.
        let source = wav(44_100, 2, 88_200, |i| {
            if i < 44_100 {
                0.7 * (i as f32 * 300.0 * std::f32::consts::TAU / 44_100.0).sin()
            } else {
                0.0
            }
        });
        let note = to_ogg_opus(file(&source).path()).expect("converted");
        assert!(is_ogg_opus(&note), "Opus in Ogg");
        assert!(
            note.len() < source.len() / 20,
            "speech-sized: {} bytes",
            note.len()
        );
        let seen = preview::of(MediaKind::Voice, &note);
        assert_eq!(seen.seconds, Some(2), "the granule positions count 48 kHz");
        let bars = seen.waveform.expect("the note decodes");
        assert!(bars[2..30].iter().all(|&b| b > 50), "loud first: {bars:?}");
        assert!(bars[36..].iter().all(|&b| b < 10), "then quiet: {bars:?}");
    }

    #[test]
    fn what_is_not_audio_or_plays_too_long_is_refused() {
        assert!(matches!(
            to_ogg_opus(file(b"%PDF-1.7 not a song").path()),
            Err(ConvertError::Unreadable(_))
        ));
        let long = wav(8_000, 1, 16_000, |_| 0.1);
        assert!(matches!(
            convert(file(&long).path(), 1),
            Err(ConvertError::TooLong)
        ));
        assert!(convert(file(&long).path(), 3).is_ok());
    }
}
