//! Language codes and language identification.
//!
//! Codes are short and lowercase: ISO 639-1 where the language has one
//! ("en", "zh", "sw"), else ISO 639-3 ("arq", "yue"). Users may give BCP 47
//! tags ("pt-BR", "zh_Hant") or ISO 639-2/3 codes ("deu", "ger"): they are
//! reduced to the primary language. Detection uses the script where one
//! script means one language (Thai, Greek, Korean, …) and `whatlang`'s
//! trigram model otherwise (70 languages; see `docs/languages.md` for its
//! accuracy on Tatoeba and what happens to the others).

use super::script::{detect_script, Script, ALL};

/// The code of text whose language is not known.
pub const UNDETERMINED: &str = "und";

/// ISO 639-3 (and 639-2/B) codes with an ISO 639-1 equivalent: every
/// language whatlang detects, plus common aliases and the languages of the
/// evaluation sets that have a two-letter code.
const THREE_TO_TWO: &[(&str, &str)] = &[
    ("afr", "af"),
    ("aka", "ak"),
    ("amh", "am"),
    ("ara", "ar"),
    ("arb", "ar"),
    ("arg", "an"),
    ("asm", "as"),
    ("aze", "az"),
    ("azj", "az"),
    ("bak", "ba"),
    ("bel", "be"),
    ("ben", "bn"),
    ("bod", "bo"),
    ("bos", "bs"),
    ("bre", "br"),
    ("bul", "bg"),
    ("cat", "ca"),
    ("ces", "cs"),
    ("cha", "ch"),
    ("chi", "zh"),
    ("chv", "cv"),
    ("cmn", "zh"),
    ("cor", "kw"),
    ("cym", "cy"),
    ("cze", "cs"),
    ("dan", "da"),
    ("deu", "de"),
    ("dut", "nl"),
    ("ell", "el"),
    ("eng", "en"),
    ("epo", "eo"),
    ("est", "et"),
    ("eus", "eu"),
    ("fao", "fo"),
    ("fas", "fa"),
    ("fin", "fi"),
    ("fra", "fr"),
    ("fre", "fr"),
    ("fry", "fy"),
    ("ger", "de"),
    ("gla", "gd"),
    ("gle", "ga"),
    ("glg", "gl"),
    ("gre", "el"),
    ("guj", "gu"),
    ("heb", "he"),
    ("hin", "hi"),
    ("hrv", "hr"),
    ("hun", "hu"),
    ("hye", "hy"),
    ("ido", "io"),
    ("ile", "ie"),
    ("ina", "ia"),
    ("ind", "id"),
    ("isl", "is"),
    ("ita", "it"),
    ("jav", "jv"),
    ("jpn", "ja"),
    ("kan", "kn"),
    ("kat", "ka"),
    ("kaz", "kk"),
    ("khm", "km"),
    ("kir", "ky"),
    ("kor", "ko"),
    ("kur", "ku"),
    ("lao", "lo"),
    ("lat", "la"),
    ("lav", "lv"),
    ("lit", "lt"),
    ("ltz", "lb"),
    ("mal", "ml"),
    ("mar", "mr"),
    ("mkd", "mk"),
    ("mon", "mn"),
    ("msa", "ms"),
    ("mya", "my"),
    ("nep", "ne"),
    ("nld", "nl"),
    ("nno", "nn"),
    ("nob", "nb"),
    ("nor", "no"),
    ("oci", "oc"),
    ("ori", "or"),
    ("pan", "pa"),
    ("per", "fa"),
    ("pes", "fa"),
    ("pol", "pl"),
    ("por", "pt"),
    ("ron", "ro"),
    ("rum", "ro"),
    ("rus", "ru"),
    ("sin", "si"),
    ("slk", "sk"),
    ("slo", "sk"),
    ("slv", "sl"),
    ("sna", "sn"),
    ("som", "so"),
    ("spa", "es"),
    ("sqi", "sq"),
    ("srp", "sr"),
    ("swa", "sw"),
    ("swe", "sv"),
    ("swh", "sw"),
    ("tam", "ta"),
    ("tat", "tt"),
    ("tel", "te"),
    ("tgk", "tg"),
    ("tgl", "tl"),
    ("tha", "th"),
    ("tuk", "tk"),
    ("tur", "tr"),
    ("uig", "ug"),
    ("ukr", "uk"),
    ("urd", "ur"),
    ("uzb", "uz"),
    ("vie", "vi"),
    ("xho", "xh"),
    ("yid", "yi"),
    ("zho", "zh"),
    ("zsm", "ms"),
    ("zul", "zu"),
];

/// A code as xling keeps it, or `None` if `code` is not a language tag.
/// `"pt-BR"` → `"pt"`, `"deu"` → `"de"`, `"EN"` → `"en"`, `"und"` → `"und"`.
pub fn normalize_language(code: &str) -> Option<String> {
    let primary = code
        .trim()
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    Some(two_letter(&primary).map_or(primary, str::to_owned))
}

/// The ISO 639-1 code of an ISO 639-3 (or 639-2/B) code, if it has one.
fn two_letter(three: &str) -> Option<&'static str> {
    THREE_TO_TWO
        .binary_search_by(|(t, _)| (*t).cmp(three))
        .ok()
        .map(|i| THREE_TO_TWO[i].1)
}

/// xling's code for a whatlang language.
fn whatlang_code(lang: whatlang::Lang) -> &'static str {
    two_letter(lang.code()).unwrap_or(lang.code())
}

/// The language written in a script used by one language only (among the
/// model's languages), e.g. Thai or Hangul.
pub fn language_of_script(script: Script) -> Option<&'static str> {
    Some(match script {
        Script::Greek => "el",
        Script::Armenian => "hy",
        Script::Georgian => "ka",
        Script::Gurmukhi => "pa",
        Script::Gujarati => "gu",
        Script::Oriya => "or",
        Script::Tamil => "ta",
        Script::Telugu => "te",
        Script::Kannada => "kn",
        Script::Malayalam => "ml",
        Script::Sinhala => "si",
        Script::Thai => "th",
        Script::Lao => "lo",
        Script::Tibetan => "bo",
        Script::Myanmar => "my",
        Script::Khmer => "km",
        Script::Hangul => "ko",
        Script::Han => "zh",
        Script::Kana => "ja",
        _ => return None,
    })
}

/// Whether [`detect_language`] can name `code` from text (a one-language
/// script or one of whatlang's languages).
pub fn detectable_by_text(code: &str) -> bool {
    ALL.iter().any(|s| language_of_script(*s) == Some(code))
        || whatlang::Lang::all()
            .iter()
            .any(|l| whatlang_code(*l) == code)
}

/// What [`detect_language`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detected {
    /// The language's code, [`UNDETERMINED`] when nothing fits.
    pub code: &'static str,
    /// How sure the detector is, 0 to 1 (1 for a one-language script).
    pub confidence: f32,
}

/// Detected languages below this confidence are reported as undetermined.
/// Chosen on Tatoeba (`xling eval langid`): lower admits more wrong guesses
/// on short sentences than it recovers right ones.
const MIN_CONFIDENCE: f64 = 0.1;

/// The language of `text`, or [`UNDETERMINED`] (no letters, or a guess too
/// weak to act on).
pub fn detect_language(text: &str) -> Detected {
    let undetermined = Detected {
        code: UNDETERMINED,
        confidence: 0.0,
    };
    let script = detect_script(text);
    if let Some(code) = language_of_script(script) {
        return Detected {
            code,
            confidence: 1.0,
        };
    }
    if script == Script::Unknown {
        return undetermined;
    }
    match whatlang::detect(text) {
        Some(info) if info.confidence() >= MIN_CONFIDENCE => Detected {
            code: whatlang_code(info.lang()),
            confidence: info.confidence() as f32,
        },
        _ => undetermined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_covers_every_whatlang_language() {
        assert!(THREE_TO_TWO.windows(2).all(|w| w[0].0 < w[1].0));
        for lang in whatlang::Lang::all() {
            assert!(
                THREE_TO_TWO.iter().any(|(three, _)| *three == lang.code()),
                "{} has no two-letter code in the table",
                lang.code()
            );
        }
    }

    #[test]
    fn codes_are_normalised() {
        for (given, expected) in [
            ("en", Some("en")),
            ("EN", Some("en")),
            (" pt-BR ", Some("pt")),
            ("zh_Hant", Some("zh")),
            ("deu", Some("de")),
            ("ger", Some("de")),
            ("cmn", Some("zh")),
            ("arq", Some("arq")),
            ("und", Some("und")),
            ("", None),
            ("e", None),
            ("english", None),
            ("e1", None),
        ] {
            assert_eq!(normalize_language(given).as_deref(), expected, "{given:?}");
        }
    }

    #[test]
    fn detects_languages_of_ordinary_sentences() {
        for (text, code) in [
            (
                "Where is the train station? I have been looking for it all morning.",
                "en",
            ),
            (
                "Wo ist der Bahnhof? Ich suche ihn schon den ganzen Morgen.",
                "de",
            ),
            (
                "¿Dónde está la estación de tren? La he buscado toda la mañana.",
                "es",
            ),
            ("Где находится вокзал? Я ищу его всё утро.", "ru"),
            ("أين محطة القطار؟ أبحث عنها طوال الصباح.", "ar"),
            ("रेलवे स्टेशन कहाँ है? मैं सुबह से इसे ढूंढ रहा हूँ।", "hi"),
            ("สถานีรถไฟอยู่ที่ไหน", "th"),
            ("火车站在哪里？", "zh"),
            ("駅はどこですか", "ja"),
            ("Πού είναι ο σταθμός;", "el"),
            ("Tren istasyonu nerede? Bütün sabah onu aradım.", "tr"),
            ("Ga tàu ở đâu? Tôi đã tìm nó cả buổi sáng.", "vi"),
        ] {
            assert_eq!(detect_language(text).code, code, "{text}");
        }
    }

    #[test]
    fn text_without_letters_is_undetermined() {
        for text in ["", "   ", "12345", "?!…", "🙂🙂"] {
            assert_eq!(detect_language(text).code, UNDETERMINED, "{text:?}");
        }
    }
}
