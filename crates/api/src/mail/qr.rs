//! A booking code as a QR image for email: the same text the web client's
//! ticket draws (`web/src/components/TicketCode.vue`, error correction M)
//! and the door scans, as a small greyscale PNG.

use qrcode::{EcLevel, QrCode};

/// Pixels per QR module: 33 modules of a booking code's QR (quiet zone
/// included) make an image of about 260 px, sharp at the 200 px it is shown.
const MODULE_PX: usize = 8;
/// White modules around the code, as the QR standard asks: a message has
/// no white frame of its own (the web client's ticket has one).
const QUIET_ZONE: usize = 4;

/// The PNG of `text`'s QR code; `None` if `text` is too long for one (a
/// booking code never is).
pub fn png(text: &str) -> Option<Vec<u8>> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let modules = code.width();
    let dark = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * MODULE_PX;
    let mut pixels = vec![0xFF_u8; side * side];
    for (index, color) in dark.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let (row, column) = (index / modules + QUIET_ZONE, index % modules + QUIET_ZONE);
        for y in row * MODULE_PX..(row + 1) * MODULE_PX {
            pixels[y * side + column * MODULE_PX..y * side + (column + 1) * MODULE_PX].fill(0);
        }
    }
    encode(&pixels, side as u32).ok()
}

/// An 8-bit greyscale PNG of `side` × `side` pixels.
fn encode(pixels: &[u8], side: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_booking_code_is_a_small_png_of_its_qr() {
        let bytes = png("7KQ2M9XD").expect("a PNG");
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "the PNG signature");
        assert!(bytes.len() < 4_000, "{} bytes", bytes.len());
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = decoder.read_info().expect("a readable PNG");
        let info = reader.info();
        // Version 1 (21 modules) holds 8 characters at level M.
        assert_eq!((info.width, info.height), (232, 232));
    }
}
