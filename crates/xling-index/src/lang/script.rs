//! Writing-system detection. Lexical matching only helps when query and
//! passage share a script (pieces of different scripts never match), so the
//! hybrid ranker weighs BM25 by whether the scripts agree.

/// The main writing systems of the languages the model covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Script {
    /// No letters at all (empty, or only digits, punctuation and symbols).
    Unknown = 0,
    /// Latin alphabet, with its accented letters.
    Latin,
    /// Cyrillic alphabet (Russian, Ukrainian, Bulgarian…).
    Cyrillic,
    /// Greek script.
    Greek,
    /// Armenian script.
    Armenian,
    /// Georgian script.
    Georgian,
    /// Hebrew script.
    Hebrew,
    /// Arabic script (Arabic, Persian, Urdu).
    Arabic,
    /// Devanagari (Hindi, Marathi, Nepali).
    Devanagari,
    /// Bengali script.
    Bengali,
    /// Gurmukhi script.
    Gurmukhi,
    /// Gujarati script.
    Gujarati,
    /// Oriya script.
    Oriya,
    /// Tamil script.
    Tamil,
    /// Telugu script.
    Telugu,
    /// Kannada script.
    Kannada,
    /// Malayalam script.
    Malayalam,
    /// Sinhala script.
    Sinhala,
    /// Thai script.
    Thai,
    /// Lao script.
    Lao,
    /// Tibetan script.
    Tibetan,
    /// Myanmar script.
    Myanmar,
    /// Khmer script.
    Khmer,
    /// Ethiopic (Amharic, Tigrinya).
    Ethiopic,
    /// Korean Hangul.
    Hangul,
    /// Chinese characters (also used in Japanese; see `Kana`).
    Han,
    /// Japanese: any kana makes a Han text Japanese.
    Kana,
    /// Letters of a script not listed here.
    Other,
}

/// Every script, in code order.
pub const ALL: [Script; 28] = [
    Script::Unknown,
    Script::Latin,
    Script::Cyrillic,
    Script::Greek,
    Script::Armenian,
    Script::Georgian,
    Script::Hebrew,
    Script::Arabic,
    Script::Devanagari,
    Script::Bengali,
    Script::Gurmukhi,
    Script::Gujarati,
    Script::Oriya,
    Script::Tamil,
    Script::Telugu,
    Script::Kannada,
    Script::Malayalam,
    Script::Sinhala,
    Script::Thai,
    Script::Lao,
    Script::Tibetan,
    Script::Myanmar,
    Script::Khmer,
    Script::Ethiopic,
    Script::Hangul,
    Script::Han,
    Script::Kana,
    Script::Other,
];

impl Script {
    /// The script stored as `v` in a snapshot (its `repr(u8)` code), if any.
    pub fn from_u8(v: u8) -> Option<Self> {
        ALL.get(v as usize).copied()
    }

    /// English name, for reports and statistics.
    pub fn name(self) -> &'static str {
        match self {
            Script::Unknown => "unknown",
            Script::Latin => "Latin",
            Script::Cyrillic => "Cyrillic",
            Script::Greek => "Greek",
            Script::Armenian => "Armenian",
            Script::Georgian => "Georgian",
            Script::Hebrew => "Hebrew",
            Script::Arabic => "Arabic",
            Script::Devanagari => "Devanagari",
            Script::Bengali => "Bengali",
            Script::Gurmukhi => "Gurmukhi",
            Script::Gujarati => "Gujarati",
            Script::Oriya => "Oriya",
            Script::Tamil => "Tamil",
            Script::Telugu => "Telugu",
            Script::Kannada => "Kannada",
            Script::Malayalam => "Malayalam",
            Script::Sinhala => "Sinhala",
            Script::Thai => "Thai",
            Script::Lao => "Lao",
            Script::Tibetan => "Tibetan",
            Script::Myanmar => "Myanmar",
            Script::Khmer => "Khmer",
            Script::Ethiopic => "Ethiopic",
            Script::Hangul => "Hangul",
            Script::Han => "Han",
            Script::Kana => "Japanese",
            Script::Other => "other",
        }
    }

    /// The script of one character; `None` for digits, punctuation and symbols.
    pub fn of_char(c: char) -> Option<Script> {
        let s = match c as u32 {
            0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF => Script::Latin,
            0x370..=0x3FF | 0x1F00..=0x1FFF => Script::Greek,
            0x400..=0x52F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => Script::Cyrillic,
            0x530..=0x58F => Script::Armenian,
            0x590..=0x5FF => Script::Hebrew,
            0x600..=0x6FF | 0x750..=0x77F | 0x8A0..=0x8FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => {
                Script::Arabic
            }
            0x900..=0x97F | 0xA8E0..=0xA8FF => Script::Devanagari,
            0x980..=0x9FF => Script::Bengali,
            0xA00..=0xA7F => Script::Gurmukhi,
            0xA80..=0xAFF => Script::Gujarati,
            0xB00..=0xB7F => Script::Oriya,
            0xB80..=0xBFF => Script::Tamil,
            0xC00..=0xC7F => Script::Telugu,
            0xC80..=0xCFF => Script::Kannada,
            0xD00..=0xD7F => Script::Malayalam,
            0xD80..=0xDFF => Script::Sinhala,
            0xE00..=0xE7F => Script::Thai,
            0xE80..=0xEFF => Script::Lao,
            0xF00..=0xFFF => Script::Tibetan,
            0x1000..=0x109F => Script::Myanmar,
            0x10A0..=0x10FF | 0x2D00..=0x2D2F => Script::Georgian,
            0x1200..=0x139F | 0x2D80..=0x2DDF => Script::Ethiopic,
            0x1780..=0x17FF => Script::Khmer,
            0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF => Script::Hangul,
            0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => Script::Kana,
            0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F => Script::Han,
            _ if c.is_alphabetic() => Script::Other,
            _ => return None,
        };
        Some(s)
    }
}

/// The script of most letters in `text` (digits, punctuation and symbols do
/// not count). Han with any kana is Japanese. `Unknown` when there are no letters.
pub fn detect_script(text: &str) -> Script {
    let mut counts = [0usize; ALL.len()];
    for c in text.chars() {
        if let Some(s) = Script::of_char(c) {
            counts[s as usize] += 1;
        }
    }
    if counts[Script::Kana as usize] > 0 {
        counts[Script::Kana as usize] += counts[Script::Han as usize];
        counts[Script::Han as usize] = 0;
    }
    let (best, n) = counts
        .iter()
        .enumerate()
        .max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i)))
        .unwrap_or((0, &0));
    if *n == 0 {
        return Script::Unknown;
    }
    Script::from_u8(best as u8).unwrap_or(Script::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_main_scripts() {
        for (text, script) in [
            ("Where is the train station?", Script::Latin),
            ("Wo ist der Bahnhof? Über 100 Züge.", Script::Latin),
            ("Где находится вокзал?", Script::Cyrillic),
            ("Πού είναι ο σταθμός;", Script::Greek),
            ("أين محطة القطار؟", Script::Arabic),
            ("रेलवे स्टेशन कहाँ है?", Script::Devanagari),
            ("สถานีรถไฟอยู่ที่ไหน", Script::Thai),
            ("火车站在哪里？", Script::Han),
            ("駅はどこですか", Script::Kana),
            ("기차역이 어디에 있어요?", Script::Hangul),
            ("ባቡር ጣቢያው የት ነው?", Script::Ethiopic),
            ("ස්ථානය කොහෙද?", Script::Sinhala),
            ("12345 !?", Script::Unknown),
            ("", Script::Unknown),
        ] {
            assert_eq!(detect_script(text), script, "{text}");
        }
    }

    #[test]
    fn majority_wins_in_mixed_text() {
        assert_eq!(detect_script("Berlin Берлин Berlin"), Script::Latin);
        assert_eq!(
            detect_script("В Berlin живёт много людей"),
            Script::Cyrillic
        );
    }

    #[test]
    fn codes_round_trip() {
        for s in ALL {
            assert_eq!(Script::from_u8(s as u8), Some(s));
        }
        assert_eq!(Script::from_u8(200), None);
    }
}
