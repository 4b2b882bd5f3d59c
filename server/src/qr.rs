//! Pairing codes as scannable PNG QR images (`data:image/png;base64,…`), made with the `qrcode`
//! crate and encoded with `png`: no image library needed.

use anyhow::Context;
use base64::Engine;
use qrcode::{Color, EcLevel, QrCode};

/// Pixels per QR module and the quiet zone around the code, in modules.
const SCALE: usize = 6;
const QUIET: usize = 4;

/// Renders `code` as a PNG data URL.
pub fn data_url(code: &str) -> anyhow::Result<String> {
    let png = png_bytes(code)?;
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    ))
}

pub fn png_bytes(code: &str) -> anyhow::Result<Vec<u8>> {
    // WhatsApp's pairing strings fit easily; level L keeps the code least dense.
    let qr = QrCode::with_error_correction_level(code.as_bytes(), EcLevel::L)
        .context("the pairing code does not fit in a QR code")?;
    let modules = qr.width();
    let colors = qr.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (mx, my) = (i % modules + QUIET, i / modules + QUIET);
            for y in my * SCALE..(my + 1) * SCALE {
                pixels[y * side + mx * SCALE..y * side + (mx + 1) * SCALE].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().context("png header")?;
        writer.write_image_data(&pixels).context("png data")?;
    }
    Ok(out)
}

/// Decodes a PNG QR image back to its text (tests use it to prove the image is scannable).
#[cfg(test)]
pub fn decode_png(png_data: &[u8]) -> anyhow::Result<String> {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_data));
    let mut reader = decoder.read_info()?;
    let mut buf = vec![0; reader.output_buffer_size().context("size")?];
    let info = reader.next_frame(&mut buf)?;
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = img.detect_grids();
    let grid = grids.first().context("no QR code found")?;
    let (_, content) = grid.decode()?;
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whatsapp_style_code_round_trips_through_a_qr_reader() {
        let code = "2@Xh3bQ8yW1kq0uP8Y1rVtP3lR4z3Lk4cQ5J6a9Kb2Fh8nC7Qe0e4bX3J5q2lS8w==,\
                    pT4f0ZsS3Yb5mQ1fVQ3m8cJ0aRj2uJ7xHg4N6kY2b3E=,\
                    Zx9bK3c4Vm5Q1wE2rT6yU7iO8pA0sD3fG5hJ7kL9zX0=,\
                    q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6j7K8l9Z0x1C=";
        let png = png_bytes(code).expect("png");
        assert_eq!(&png[1..4], b"PNG");
        assert_eq!(decode_png(&png).expect("decodes"), code);
        assert!(
            data_url(code)
                .expect("url")
                .starts_with("data:image/png;base64,iVBOR")
        );
    }
}
