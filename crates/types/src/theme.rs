//! Merchant theming: an accent colour, a corner radius, a logo and the
//! appearance (light, dark or the shopper's setting), checked here so the
//! server refuses what the page could not show safely, and turned into the
//! CSS custom properties the stylesheet reads.
//!
//! Contrast is kept at WCAG AA whatever the merchant picks: the text on the
//! accent is black or white, whichever contrasts more, and accent-coloured
//! text falls back to a darker (light mode) or lighter (dark mode) shade
//! until it reaches 4.5:1 against the page.

use serde::{Deserialize, Serialize};

/// Light, dark, or the shopper's system setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Appearance {
    /// Follow `prefers-color-scheme`.
    #[default]
    Auto,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl Appearance {
    /// `auto`, `light` or `dark`.
    pub fn as_str(self) -> &'static str {
        match self {
            Appearance::Auto => "auto",
            Appearance::Light => "light",
            Appearance::Dark => "dark",
        }
    }

    /// Parses `auto`, `light` or `dark`.
    pub fn parse(s: &str) -> Option<Appearance> {
        match s {
            "auto" => Some(Appearance::Auto),
            "light" => Some(Appearance::Light),
            "dark" => Some(Appearance::Dark),
            _ => None,
        }
    }
}

/// A merchant's theme, as stored and as sent to the page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theme {
    /// Accent colour, `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent: Option<String>,
    /// Corner radius in CSS pixels, 0–24.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius: Option<u8>,
    /// Logo as a `data:image/…;base64,…` URL (no third-party request), at most [`MAX_LOGO`] bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    /// Light, dark or auto.
    #[serde(default)]
    pub appearance: Appearance,
}

/// Largest logo data URL accepted.
pub const MAX_LOGO: usize = 48 * 1024;

/// Parses `#rgb` or `#rrggbb` into RGB.
pub fn parse_hex(s: &str) -> Option<(u8, u8, u8)> {
    let h = s.strip_prefix('#')?;
    if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let v = |i: usize, n: usize| u8::from_str_radix(&h[i..i + n], 16).ok();
    match h.len() {
        3 => Some((v(0, 1)? * 17, v(1, 1)? * 17, v(2, 1)? * 17)),
        6 => Some((v(0, 2)?, v(2, 2)?, v(4, 2)?)),
        _ => None,
    }
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::from("#");
    for c in [r, g, b] {
        s.push(char::from(D[usize::from(c >> 4)]));
        s.push(char::from(D[usize::from(c & 15)]));
    }
    s
}

/// WCAG relative luminance ×10 000 (integer arithmetic, no floats).
fn luminance((r, g, b): (u8, u8, u8)) -> u32 {
    // sRGB channel → linear ×10_000: the WCAG formula sampled at c = i/14, linearly interpolated (error < 0.002).
    const LIN: [u32; 16] = [0, 61, 180, 377, 664, 1048, 1538, 2140, 2862, 3709, 4686, 5799, 7053, 8451, 10_000, 10_000];
    let lin = |c: u8| {
        let c = u32::from(c);
        let (i, f) = ((c * 14) / 255, (c * 14) % 255);
        let (a, b) = (LIN[i as usize], LIN[i as usize + 1]);
        a + (b - a) * f / 255
    };
    (2126 * lin(r) + 7152 * lin(g) + 722 * lin(b)) / 10_000
}

/// Contrast ratio × 100 between two colours (WCAG 2: (L1 + 0.05) / (L2 + 0.05)).
pub fn contrast_x100(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let (la, lb) = (luminance(a) + 500, luminance(b) + 500);
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    hi * 100 / lo
}

const WHITE: (u8, u8, u8) = (255, 255, 255);
const BLACK: (u8, u8, u8) = (0, 0, 0);
/// The page backgrounds of the stylesheet, light and dark.
pub const SURFACE_LIGHT: (u8, u8, u8) = (255, 255, 255);
/// Dark page background.
pub const SURFACE_DARK: (u8, u8, u8) = (0x17, 0x1b, 0x21);

/// Moves `c` toward `to` until it contrasts at least 4.5:1 with `surface`.
fn ink(c: (u8, u8, u8), surface: (u8, u8, u8), to: (u8, u8, u8)) -> (u8, u8, u8) {
    let mix = |a: u8, b: u8, t: u16| u8::try_from((u16::from(a) * (20 - t) + u16::from(b) * t) / 20).unwrap_or(b);
    (0..=20).map(|t| (mix(c.0, to.0, t), mix(c.1, to.1, t), mix(c.2, to.2, t))).find(|m| contrast_x100(*m, surface) >= 450).unwrap_or(to)
}

impl Theme {
    /// Checks every field; the message names the first bad one.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(a) = &self.accent
            && parse_hex(a).is_none()
        {
            return Err("accent must be a colour like #1d4ed8".into());
        }
        if self.radius.is_some_and(|r| r > 24) {
            return Err("radius must be 0 to 24 (pixels)".into());
        }
        if let Some(l) = &self.logo {
            let ok_type = ["data:image/png;base64,", "data:image/jpeg;base64,", "data:image/webp;base64,", "data:image/svg+xml;base64,"]
                .iter()
                .any(|p| l.starts_with(p));
            let body = l.split_once(',').map_or("", |(_, b)| b);
            if !ok_type || l.len() > MAX_LOGO || !body.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')) {
                return Err(format!("logo must be a base64 PNG, JPEG, WebP or SVG data URL of at most {MAX_LOGO} bytes"));
            }
        }
        Ok(())
    }

    /// The theme as CSS custom properties (name, value) for the element that
    /// hosts the page, built only from validated values.
    /// The host sets them with `style.setProperty` (a strict CSP refuses
    /// style attributes); the stylesheet falls back to its defaults for any
    /// that is absent.
    pub fn css_vars(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(c) = self.accent.as_deref().and_then(parse_hex) {
            let on = if contrast_x100(c, WHITE) >= contrast_x100(c, BLACK) { WHITE } else { BLACK };
            out.push(("--kassa-theme-accent", hex(c)));
            out.push(("--kassa-theme-accent-text", hex(on)));
            out.push(("--kassa-theme-ink", hex(ink(c, SURFACE_LIGHT, BLACK))));
            out.push(("--kassa-theme-ink-dark", hex(ink(c, SURFACE_DARK, WHITE))));
        }
        if let Some(r) = self.radius.filter(|r| *r <= 24) {
            out.push(("--kassa-theme-radius", format!("{r}px")));
        }
        if let Some(l) = &self.logo
            && self.validate().is_ok()
        {
            out.push(("--kassa-theme-logo", format!("url(\"{l}\")")));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_contrast() {
        assert_eq!(parse_hex("#1d4ed8"), Some((0x1d, 0x4e, 0xd8)));
        assert_eq!(parse_hex("#fff"), Some((255, 255, 255)));
        for bad in ["1d4ed8", "#1d4ed", "#ggg", "#1d4ed8;x", "", "#"] {
            assert_eq!(parse_hex(bad), None, "{bad}");
        }
        // Known WCAG ratios: black on white is 21:1; #767676 on white is about 4.54:1.
        assert!((2090..=2110).contains(&contrast_x100(BLACK, WHITE)), "{}", contrast_x100(BLACK, WHITE));
        let grey = contrast_x100((0x76, 0x76, 0x76), WHITE);
        assert!((445..=465).contains(&grey), "{grey}");
        assert_eq!(contrast_x100(WHITE, WHITE), 100);
    }

    #[test]
    fn every_accent_gets_readable_text_and_ink() {
        for c in [(255, 255, 0), (0, 0, 128), (0x1d, 0x4e, 0xd8), (255, 255, 255), (0, 0, 0), (0x88, 0x88, 0x88), (0xff, 0x66, 0x00)] {
            let t = Theme { accent: Some(hex(c)), ..Theme::default() };
            let vars = t.css_vars();
            let get = |name: &str| {
                let v = &vars.iter().find(|(n, _)| *n == format!("--kassa-theme-{name}")).unwrap().1;
                parse_hex(v).unwrap()
            };
            assert!(contrast_x100(get("accent"), get("accent-text")) >= 450 || contrast_x100(c, WHITE).max(contrast_x100(c, BLACK)) < 450);
            assert!(contrast_x100(get("ink"), SURFACE_LIGHT) >= 450, "{vars:?}");
            assert!(contrast_x100(get("ink-dark"), SURFACE_DARK) >= 450, "{vars:?}");
        }
    }

    #[test]
    fn validation() {
        assert!(Theme { accent: Some("#123456".into()), radius: Some(8), ..Theme::default() }.validate().is_ok());
        assert!(Theme { accent: Some("red".into()), ..Theme::default() }.validate().is_err());
        assert!(Theme { radius: Some(25), ..Theme::default() }.validate().is_err());
        assert!(Theme { logo: Some("data:image/png;base64,iVBORw0KGgo=".into()), ..Theme::default() }.validate().is_ok());
        for bad in ["https://cdn.example/logo.png", "data:text/html;base64,PHNjcmlwdD4=", "data:image/png;base64,\"onerror=x"] {
            assert!(Theme { logo: Some(bad.into()), ..Theme::default() }.validate().is_err(), "{bad}");
        }
        let t = Theme { accent: Some("#0a0".into()), radius: Some(30), ..Theme::default() };
        assert!(!t.css_vars().iter().any(|(n, _)| n.contains("radius")));
    }
}
