//! Which scripts a language is written in, for choosing the pieces a pruned
//! model keeps. Codes are xling's (see [`crate::lang::normalize_language`]).

use crate::lang::{language_of_script, Script};

/// Languages written in a script shared with other languages (and every
/// language of the shipped prior that is not alone in its script). Languages whose
/// script is theirs alone (Thai, Greek, …) come from
/// [`language_of_script`]; Japanese and Korean also read Han characters.
const SHARED_SCRIPTS: &[(&str, &[Script])] = &[
    ("af", &[Script::Latin]),
    ("am", &[Script::Ethiopic]),
    ("ang", &[Script::Latin]),
    ("ar", &[Script::Arabic]),
    ("arq", &[Script::Arabic]),
    ("arz", &[Script::Arabic]),
    ("as", &[Script::Bengali]),
    ("ast", &[Script::Latin]),
    ("awa", &[Script::Devanagari]),
    ("az", &[Script::Latin]),
    ("be", &[Script::Cyrillic]),
    ("ber", &[Script::Latin]),
    ("bg", &[Script::Cyrillic]),
    ("bho", &[Script::Devanagari]),
    ("bn", &[Script::Bengali]),
    ("br", &[Script::Latin]),
    ("bs", &[Script::Latin]),
    ("ca", &[Script::Latin]),
    ("cbk", &[Script::Latin]),
    ("ceb", &[Script::Latin]),
    ("ch", &[Script::Latin]),
    ("cha", &[Script::Latin]),
    ("cor", &[Script::Latin]),
    ("cs", &[Script::Latin]),
    ("csb", &[Script::Latin]),
    ("cy", &[Script::Latin]),
    ("da", &[Script::Latin]),
    ("de", &[Script::Latin]),
    ("dsb", &[Script::Latin]),
    ("dtp", &[Script::Latin]),
    ("en", &[Script::Latin]),
    ("eo", &[Script::Latin]),
    ("es", &[Script::Latin]),
    ("et", &[Script::Latin]),
    ("eu", &[Script::Latin]),
    ("fa", &[Script::Arabic]),
    ("fao", &[Script::Latin]),
    ("fi", &[Script::Latin]),
    ("fo", &[Script::Latin]),
    ("fr", &[Script::Latin]),
    ("fy", &[Script::Latin]),
    ("ga", &[Script::Latin]),
    ("gd", &[Script::Latin]),
    ("gl", &[Script::Latin]),
    ("gsw", &[Script::Latin]),
    ("ha", &[Script::Latin]),
    ("he", &[Script::Hebrew]),
    ("hi", &[Script::Devanagari]),
    ("hr", &[Script::Latin]),
    ("hsb", &[Script::Latin]),
    ("hu", &[Script::Latin]),
    ("ia", &[Script::Latin]),
    ("id", &[Script::Latin]),
    ("ido", &[Script::Latin]),
    ("ie", &[Script::Latin]),
    ("ile", &[Script::Latin]),
    ("ina", &[Script::Latin]),
    ("io", &[Script::Latin]),
    ("is", &[Script::Latin]),
    ("it", &[Script::Latin]),
    ("ja", &[Script::Kana, Script::Han]),
    ("jv", &[Script::Latin]),
    ("kab", &[Script::Latin]),
    ("kk", &[Script::Cyrillic]),
    ("ko", &[Script::Hangul, Script::Han]),
    ("ku", &[Script::Latin, Script::Arabic]),
    ("kw", &[Script::Latin]),
    ("ky", &[Script::Cyrillic]),
    ("kzj", &[Script::Latin]),
    ("la", &[Script::Latin]),
    ("lfn", &[Script::Latin]),
    ("lt", &[Script::Latin]),
    ("lv", &[Script::Latin]),
    ("mai", &[Script::Devanagari]),
    ("max", &[Script::Latin]),
    ("mg", &[Script::Latin]),
    ("mhr", &[Script::Cyrillic]),
    ("mk", &[Script::Cyrillic]),
    ("mn", &[Script::Cyrillic]),
    ("mr", &[Script::Devanagari]),
    ("ms", &[Script::Latin]),
    ("nb", &[Script::Latin]),
    ("nds", &[Script::Latin]),
    ("ne", &[Script::Devanagari]),
    ("new", &[Script::Devanagari]),
    ("nl", &[Script::Latin]),
    ("nn", &[Script::Latin]),
    ("nno", &[Script::Latin]),
    ("no", &[Script::Latin]),
    ("nov", &[Script::Latin]),
    ("oc", &[Script::Latin]),
    ("oci", &[Script::Latin]),
    ("om", &[Script::Latin]),
    ("orv", &[Script::Cyrillic]),
    ("pam", &[Script::Latin]),
    ("pl", &[Script::Latin]),
    ("pms", &[Script::Latin]),
    ("ps", &[Script::Arabic]),
    ("pt", &[Script::Latin]),
    ("ro", &[Script::Latin]),
    ("ru", &[Script::Cyrillic]),
    ("sa", &[Script::Devanagari]),
    ("sd", &[Script::Arabic]),
    ("sk", &[Script::Latin]),
    ("sl", &[Script::Latin]),
    ("so", &[Script::Latin]),
    ("sq", &[Script::Latin]),
    ("sr", &[Script::Cyrillic, Script::Latin]),
    ("su", &[Script::Latin]),
    ("sv", &[Script::Latin]),
    ("sw", &[Script::Latin]),
    ("swg", &[Script::Latin]),
    ("tat", &[Script::Cyrillic]),
    ("tk", &[Script::Latin]),
    ("tl", &[Script::Latin]),
    ("tr", &[Script::Latin]),
    ("tt", &[Script::Cyrillic]),
    ("tuk", &[Script::Latin]),
    ("tzl", &[Script::Latin]),
    ("ug", &[Script::Arabic]),
    ("uk", &[Script::Cyrillic]),
    ("ur", &[Script::Arabic]),
    ("uz", &[Script::Latin]),
    ("vi", &[Script::Latin]),
    ("war", &[Script::Latin]),
    ("wuu", &[Script::Han]),
    ("xh", &[Script::Latin]),
    ("yi", &[Script::Hebrew]),
    ("yue", &[Script::Han]),
    ("zh", &[Script::Han]),
    ("zsm", &[Script::Latin]),
    ("zu", &[Script::Latin]),
];

/// The scripts of language `code`, or `None` for a language xling cannot prune for.
pub fn scripts_of(code: &str) -> Option<Vec<Script>> {
    if let Ok(i) = SHARED_SCRIPTS.binary_search_by(|(c, _)| (*c).cmp(code)) {
        return Some(SHARED_SCRIPTS[i].1.to_vec());
    }
    crate::lang::ALL_SCRIPTS
        .iter()
        .find(|s| language_of_script(**s) == Some(code))
        .map(|s| vec![*s])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_knows_the_xquad_r_languages() {
        assert!(SHARED_SCRIPTS.windows(2).all(|w| w[0].0 < w[1].0));
        for code in [
            "ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh",
        ] {
            assert!(scripts_of(code).is_some(), "{code}");
        }
        assert_eq!(scripts_of("el"), Some(vec![Script::Greek]));
        assert_eq!(scripts_of("ja"), Some(vec![Script::Kana, Script::Han]));
        assert_eq!(scripts_of("xx"), None);
    }
}
