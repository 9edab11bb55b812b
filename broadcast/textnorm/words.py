"""Second pass: words, abbreviations, capitals and leftover symbols."""

from __future__ import annotations

import functools
import re
import unicodedata

from broadcast.numbers import digit_words
from broadcast.textnorm.lexicon import TOKEN_RE, Lexicon
from broadcast.textnorm.numerals import cardinal, roman_value

# Vietnamese names of Latin letters, as read in abbreviations ("UBND" -> "u bê en đê").
LETTER_NAMES = {
    "a": "a", "ă": "á", "â": "ớ", "b": "bê", "c": "xê", "d": "đê", "đ": "đê", "e": "e",
    "ê": "ê", "f": "ép", "g": "gờ", "h": "hát", "i": "i", "j": "gi", "k": "ca", "l": "lờ",
    "m": "em", "n": "en", "o": "o", "ô": "ô", "ơ": "ơ", "p": "pê", "q": "quy", "r": "rờ",
    "s": "ét", "t": "tê", "u": "u", "ư": "ư", "v": "vê", "w": "vê kép", "x": "ích",
    "y": "i", "z": "dét",
}

# Parts of a web address read as words rather than spelled.
ADDRESS_WORDS = {
    "gov": "gốp", "vn": "vê en", "com": "com", "net": "nét", "org": "o rờ gờ",
    "edu": "e đu", "info": "in phô", "biz": "bít", "io": "i o", "int": "in",
    "asia": "a xi a", "www": "vê kép vê kép vê kép", "http": "", "https": "",
    "html": "hát tê em lờ", "php": "pê hát pê", "aspx": "a ét pê ích",
    # Party committees' sites: "huyenuy.namtramy.quangnam.gov.vn", "tinhuy.….gov.vn".
    "huyenuy": "huyện ủy", "tinhuy": "tỉnh ủy", "thanhuy": "thành ủy",
    # Health offices' sites: "ytedongthap.vn", "soyte.….gov.vn".
    "yte": "y tế", "soyte": "sở y tế",
    # Services and offices named in Vietnamese without marks: "motcua.lamdong.gov.vn".
    "motcua": "một cửa", "dichvucong": "dịch vụ công", "hanhchinhcong": "hành chính công",
    "congbao": "công báo", "vanban": "văn bản", "thutuc": "thủ tục", "thanhtra": "thanh tra",
    "congan": "công an", "tinhdoan": "tỉnh đoàn", "city": "xi ti",
}

# Parts of brands written as joined words ("VietinBank", "ViettelPost", "ZaloPay").
BRAND_PARTS = {"Bank": "banh", "Post": "pốt", "Pay": "pây", "Money": "mơ ni", "Viet": "Việt", "Vietin": "Việt tin",
               "Vietnam": "Việt Nam", "Smart": "xờ mát", "Gate": "ghết", "Tax": "tắc",
               "Mobile": "mô bai", "Group": "grúp", "Express": "ếch prét", "Stock": "xtốc"}
# Lower-case letters opening an electronic service's name ("iGate", "eTax", "mBanking").
_BRAND_PREFIXES = {"i": "ai", "e": "i", "m": "em"}
_CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z][a-z]+|[A-Z]+|[a-z]+")

# Provinces and cities, recognised in addresses written without marks ("quangtri.gov.vn").
PROVINCES = (
    "An Giang", "Bà Rịa Vũng Tàu", "Bắc Giang", "Bắc Kạn", "Bạc Liêu", "Bắc Ninh", "Bến Tre",
    "Bình Định", "Bình Dương", "Bình Phước", "Bình Thuận", "Cà Mau", "Cần Thơ", "Cao Bằng",
    "Đà Nẵng", "Điện Biên", "Đồng Nai", "Đồng Tháp", "Gia Lai", "Hà Giang", "Hà Nam", "Hà Nội",
    "Hà Tĩnh", "Hải Dương", "Hải Phòng", "Hậu Giang", "Hòa Bình", "Hưng Yên", "Khánh Hòa",
    "Kiên Giang", "Lai Châu", "Lâm Đồng", "Lạng Sơn", "Lào Cai", "Long An", "Nam Định",
    "Nghệ An", "Ninh Bình", "Ninh Thuận", "Phú Thọ", "Phú Yên", "Quảng Bình", "Quảng Nam",
    "Quảng Ngãi", "Quảng Ninh", "Quảng Trị", "Sóc Trăng", "Sơn La", "Tây Ninh", "Thái Bình",
    "Thái Nguyên", "Thanh Hóa", "Thừa Thiên Huế", "Tiền Giang", "Trà Vinh", "Tuyên Quang",
    "Vĩnh Long", "Vĩnh Phúc", "Yên Bái", "Hồ Chí Minh", "Huế",
)
# Province names by their first word in capitals, for headings ("TỈNH NINH THUẬN").
_PROVINCE_HEADS: dict[str, list[tuple[str, ...]]] = {}
for _name in PROVINCES:
    _PROVINCE_HEADS.setdefault(_name.split()[0].upper(), []).append(tuple(_name.split()))
# Unit words that open a local part or host name ("xaeatu", "ubndhuyenkrongpac").
ADDRESS_UNITS = (("xa", "xã"), ("phuong", "phường"), ("huyen", "huyện"), ("thixa", "thị xã"),
                 ("thitran", "thị trấn"), ("tinh", "tỉnh"), ("thanhpho", "thành phố"),
                 ("bao", "báo"))

_VOWELS = "aeiouy"
# Toneless Vietnamese syllable, as in unaccented domain names ("dichvucong").
_ONSETS = "ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|qu|b|c|d|g|h|k|l|m|n|p|r|s|t|v|x"
_NUCLEI = (
    "uye|uya|uyu|uoi|uou|oai|oay|uay|oeo|yeu|ieu|"
    "ai|ao|au|ay|eo|eu|ia|iu|oa|oe|oi|ua|ue|ui|uu|uy|uo|ye|ie|"
    "a|e|i|o|u|y"
)
_SYLLABLE_RE = re.compile(rf"(?:{_ONSETS})?(?:{_NUCLEI})(?:ng|nh|ch|c|m|n|p|t|k)?")
# Rhymes Vietnamese never writes: "ic", "eng"; "y" inside a closed syllable; and the
# diphthongs "ie", "uo", "ye", "uye" without a final consonant ("lienhe" is "lien he", not
# "lie nhe"; "huyenuy" is "huyen uy", not "huye nuy").
_BAD_RHYME_RE = re.compile(
    r"(?:^|[^aeiouy])(?:i|e)(?:c|ng)$|^[^aeiouy]*y[^aeiouy]+$|(?:ie|uo|ye)$"
    # A vowel closed by a glide takes no final consonant: "rôin" is no syllable ("Hêrôin" is
    # "Hê rô in").
    r"|(?:ai|ao|au|ay|eo|eu|iu|oi|ui|uu)(?:ng|nh|ch|c|m|n|p|t|k)$"
)

# Diacritics that mark a Vietnamese word written in capitals ("KẾ HOẠCH").
_VIET_LETTERS = set("ăâêôơưđ")

_SCAN_RE = re.compile(
    r"(\x01[^\x02]*\x02|\x03[^\x04]*\x04)"  # words from the first pass
    r"|(" + TOKEN_RE.pattern + r")"  # a word
    r"|(\n)"
    r"|([^\S\n]+)"
    r"|(.)",
    re.S,
)
WORD, DONE, NEWLINE, SPACE, PUNCT = "word", "done", "nl", "sp", "punct"
_KINDS = {1: DONE, 2: WORD, 3: NEWLINE, 4: SPACE, 5: PUNCT}
# Marks first-pass words that keep their case at a sentence start (a web address
# written in lower case stays lower case).
KEEP_CASE = "\x05"

SENTENCE_END = set(".!?")
KEEP_PUNCT = set(".,;:?!")
# Symbols read as words when they stand alone.
SYMBOL_WORDS = {
    "&": "và", "%": "phần trăm", "@": "a còng", "=": "bằng", "+": "cộng", "~": "khoảng",
    "≈": "khoảng", ">": "lớn hơn", "<": "nhỏ hơn", "≥": "lớn hơn hoặc bằng",
    "≤": "nhỏ hơn hoặc bằng", "×": "nhân", "±": "cộng trừ", "°": "độ", "$": "đô la",
    "€": "ơ rô", "₫": "đồng", "§": "mục", "№": "số",
}
# Brackets and dashes become a pause; quotes and decoration disappear.
PAUSE_CHARS = set("()[]{}–—-‒")
SILENT_CHARS = set("\"“”„‟«»‘’'`*#|_^\\•·►▪▶→←↑↓✓✔■□◆◇○●※¦~")

# Words after '/' that make it mean 'per' ("đồng/lít" -> "đồng một lít").
PER_UNITS = {
    "năm", "tháng", "ngày", "tuần", "giờ", "phút", "giây", "lít", "kg", "người", "hộ", "tấn",
    "con", "cổ", "cp", "lượt", "ca", "km", "chiếc", "ha", "suất", "lần", "phiên", "thùng",
    "bao", "m2", "m²", "héc", "mét", "cái", "quý", "khách", "xe", "căn", "lô", "gói",
    "buổi", "thửa", "cây", "ki", "tạ", "yến", "pound", "lb", "ounce",
}

_RUNS_RE = re.compile(r"\d+|[^\W\d_]+|[^\w\s]|\w", re.UNICODE)
# Superscripts and other number-like signs inside a word.
SUPERSCRIPTS = {"²": "mũ hai", "³": "mũ ba", "¹": "mũ một", "½": "một phần hai",
                "¼": "một phần tư", "¾": "ba phần tư"}

# Words glued to their number: roads ("QL14", "ĐT645") and flood alarm levels ("BĐ2").
# Letters said as a word inside a code that is otherwise spelled.
CODE_WORDS = {"RON": "rôn"}
ROAD_PREFIXES = {"QL": "quốc lộ", "TL": "tỉnh lộ", "ĐT": "đường tỉnh", "ĐH": "đường huyện",
                 "HL": "hương lộ", "Km": "ki lô mét", "KM": "ki lô mét", "BĐ": "báo động"}
# "BĐ1-BĐ2", "QL14-QL27": a dash between two such codes is a range.
_CODE_RANGE_RE = re.compile(r"([^\W\d_]+)\d+")

# Prices and rates: after these words '/' is 'per' whatever follows ("đồng/hồ sơ").
PER_LEFT = {"đồng", "trăm", "mỹ", "la", "rô", "usd", "vnđ", "ngàn", "nghìn", "triệu", "tỷ", "tỉ",
            "rupee", "yên", "tệ", "bảng", "won", "bạt", "cent", "xu"}

# Readings of bodies a department belongs to, written after a slash ("Cục Kinh tế/BQP").
_PARENT_BODIES = ("Bộ ", "Sở ", "Ủy ban nhân dân", "Tỉnh ủy", "Huyện ủy", "Tổng cục ", "Quân khu",
                  "Bộ Tư lệnh", "Bộ Chỉ huy", "Công an tỉnh", "Công an huyện")

# Measures: after these '/' is a rate read 'trên' ("mm/ngày", "tấn/tấn", "ml/kg").
# Levels of government or kinds of place: "cấp xã/phường", "tỉnh/thành phố" name both, with a pause.
ADMIN_FIRST = {"xã", "phường", "thị", "huyện", "quận", "thành", "tỉnh", "thôn", "bản", "buôn", "ấp", "làng",
               "tổ", "khu", "đặc"}
ADMIN_LAST = {"xã", "phường", "trấn", "huyện", "quận", "phố", "tỉnh", "thôn", "bản", "buôn", "ấp", "làng", "khu"}

MEASURE_LEFT = {"mét", "lít", "gam", "tấn", "tạ", "yến", "ta", "vuông", "khối", "oát", "vôn",
                "mm", "ml", "mg", "kg", "km", "cm", "bai", "lượng", "liều",
                # written units the word pass reads from the dictionary ("2 triệu m3/ngày")
                "m", "m2", "m3", "km2", "ha", "cm2", "dm3", "g", "l"}

# Inside a company name the same letters name trades, not state bodies:
# "Công ty CP" is "cổ phần", "NĐ-CP" is "Chính phủ"; "Công ty ĐT" is "đầu tư".
COMPANY_READINGS = {"CP": "cổ phần", "ĐT": "đầu tư", "TM": "thương mại", "PT": "phát triển",
                    "CN": "công nghệ", "KD": "kinh doanh", "VT": "vận tải", "TV": "tư vấn",
                    "XL": "xây lắp", "MT": "môi trường", "NN": "nông nghiệp"}
_COMPANY_STARTS = {"Cty", "CTY", "CTCP", "TNHH", "TCT"}
_COMPANY_SPAN = 8  # words after "Công ty" that may still be part of its name
# "H. Krông Pắc", "X. Ea Tu": a place-type initial before a capitalised name.
PLACE_INITIALS = {"H": "huyện", "X": "xã", "TT": "thị trấn", "T": "tỉnh"}

# After a measure, '/' before these is a rate read 'trên'; before a counted thing
# ("lít/gốc", "kg/người") it is 'per', read "một".
RATE_RIGHT = MEASURE_LEFT | {"ngày", "giờ", "tuần", "tháng", "năm", "phút", "giây", "héc", "ha",
                             "mét", "lít", "gam", "tấn", "tạ", "m2", "m3", "km", "kg"}

# 'TT' before a party or council body is "Thường trực", elsewhere "Trung tâm".
_STANDING_NEXT = {"Tỉnh", "Huyện", "Thành", "Đảng", "HĐND", "UBND", "MTTQ", "TU", "HU",
                  "Quốc", "Chính", "Ban", "Hội", "Ủy", "UB", "BCH", "TW", "ĐU"}
# 'BCH' is "Ban Chấp hành" of a party or union, but "Ban Chỉ huy" of disaster and
# military commands ("BCH PCTT&TKCN", "BCH Quân sự huyện", "BCH phòng chống thiên tai").
_COMMAND_NEXT = {"phòng", "Phòng", "PCTT", "PCTT&TKCN", "PCTT-TKCN", "PCLB", "PCLB&TKCN", "TKCN",
                 "quân", "Quân", "QS", "PTDS", "PCCC", "biên", "Biên", "BĐBP", "CHQS"}
# Pages hide the "Đại hội" of a party congress behind the "ĐH" of "đại học".
_CONGRESS_RE = re.compile(r"Đại hội|đại hội|ĐẠI HỘI|ĐHĐB|Đảng|cấp ủy|cấp uỷ")
_SCHOOL_RE = re.compile(r"học|HỌC|sinh viên|tuyển sinh|ĐHQG")


_CONTEXT_TOKENS = {"TT", "TTr", "BCH", "ĐH", "BT", "KV", "BBT"}
# 'BBT' is the Party's "Ban Bí thư", but "Ban biên tập" of a paper or a web page
# ("BBT Trang Thông tin điện tử", "BBT Báo Gia Lai", "BBT Cổng TTĐT").
_EDITORS_NEXT = {"Trang", "trang", "Báo", "báo", "Cổng", "cổng", "Tạp", "tạp", "Bản", "bản",
                 "Website", "website", "Đài", "đài", "Chuyên", "chuyên"}
# 'BT' before a party committee is "Bí thư" ("BT Huyện ủy"), elsewhere initials.
_SECRETARY_NEXT = {"Tỉnh", "Huyện", "Thành", "Đảng", "Chi", "Quận", "Thị", "Xã", "Phường",
                   "Đoàn", "TU", "HU", "ĐU", "ĐB", "CB", "Chi bộ", "Tỉnh ủy", "Huyện ủy"}
# Cue words before a Roman numeral written in lower case ("hạng iv", "khóa xv").
_SECRETARY_PAIR_RE = re.compile(r"(?<![\w.])BT[ \t]*(?:,|và|/)[ \t]*PBT(?!\w)|(?<![\w.])PBT[ \t]*(?:,|và|/)[ \t]*BT(?!\w)")
# Departments written with their initials after "Sở", "Bộ", "Phòng".
DEPARTMENTS = {"TC": "Tài chính", "TP": "Tư pháp", "CT": "Công Thương", "YT": "Y tế", "NV": "Nội vụ",
               "XD": "Xây dựng", "NN": "Nông nghiệp", "GD": "Giáo dục", "VH": "Văn hóa",
               "LĐ": "Lao động", "NG": "Ngoại giao", "QP": "Quốc phòng", "CA": "Công an"}
_DEPARTMENT_HEADS = {"Sở", "Bộ", "Phòng", "SỞ", "BỘ", "PHÒNG"}  # not "cán bộ CA", "cơ sở"
_OFFICE_PREFIXES = {"VP": "Văn phòng", "BQL": "Ban quản lý"}
_ROMAN_CUES = {"hạng", "khóa", "khoá", "cấp", "quý", "phần", "chương", "mục", "đợt"}
# Lower-case numerals that are also Vietnamese syllables ("vi rút", "xi măng"): numerals
# only when nothing but punctuation follows.
_ROMAN_WORDS = {"vi", "xi"}
# Words with "vi", "xi" that a heading in capitals writes like numerals ("PHẠM VI", "VI PHẠM").
_VI_XI_WORDS = {("phạm", "vi"), ("hành", "vi"), ("chu", "vi"), ("vi", "phạm"), ("vi", "sinh"),
                ("vi", "khuẩn"), ("vi", "mô"), ("vi", "rút"), ("vi", "tính"), ("vi", "bằng"),
                ("xi", "măng"), ("xi", "mạ")}
# How many plain words a lexicon remembers (a hostile feed must not grow it without end).
# Words whose case carries the meaning, so the dictionary's any-case matching cannot hold them:
# "pH" of water or soil is "pê hát", while "PH" in a school notice is something else.
EXACT_CASE = {"pH": "pê hát"}
# Initials of a person, kept private in the news ("cháu P.X.X", "ông N.V.A"): spelled, never
# taken for "phường" or another place abbreviation.
_INITIALS_RE = re.compile(r"(?:[A-ZĐ]\.){1,3}[A-ZĐ]\.?")
_PLAIN_MAX = 50_000
_LOWER_ROMAN_RE = re.compile(r"(?:x{0,3})(?:ix|iv|v?i{0,3})")
# Names written in two halves around a dash, read as one name without a pause.
_PAIRED_NAMES = {("Thiên", "Huế"), ("Rịa", "Vũng"), ("Đông", "Xuân"), ("Hè", "Thu"),
                 ("Thu", "Đông"), ("Xuân", "Hè"), ("đông", "xuân"), ("hè", "thu"), ("thu", "đông"),
                 ("Nha", "Kẻ")}  # Vườn quốc gia Phong Nha - Kẻ Bàng
# Titles that open the right side of "Nguyễn Văn A - Phó Chủ tịch": a pause, not a compound.
_TITLE_WORDS = {"Phó", "Chủ", "Trưởng", "Giám", "Bí", "Tổng", "Chánh", "Ủy", "Uỷ", "Thiếu",
                "Trung", "Thượng", "Đại", "Cán", "Chuyên", "Nguyên", "Phóng", "Kế", "Thường",
                "Ông", "Bà", "Anh", "Chị", "Đồng", "Giáo", "Tiến", "Thạc", "Bác", "Hiệu"}


def is_vietnamese_word(word: str) -> bool:
    """Say whether a capitalised token reads as a Vietnamese syllable ('HOẠCH', 'TIN')."""
    low = word.lower()
    if any(ch in _VIET_LETTERS for ch in low) or any(
        unicodedata.combining(c) for c in unicodedata.normalize("NFD", low)
    ):
        # Diacritics: a Vietnamese word, unless it mixes in foreign letters or
        # is no syllable at all (the initials "ĐVHC", "ĐKX").
        if any(ch in "fjwz" for ch in low):
            return False
        bare = "".join(c for c in unicodedata.normalize("NFD", low.replace("đ", "d"))
                       if not unicodedata.combining(c))
        return bool(_SYLLABLE_RE.fullmatch(bare))
    if not low.isascii() or len(low) < 3:
        # Without diacritics a two-letter capital word ("IP", "AT") is initials.
        return False
    if not _SYLLABLE_RE.fullmatch(low) or low.endswith("k"):
        return False
    return not _BAD_RHYME_RE.search(low)


# Foreign names in capitals ("YAGI", "KAJIKI", "RAGASA") are read as words when they
# split into plain consonant-vowel syllables; acronyms ("EVNSPC", "BIDV") do not.
_FOREIGN_ONSETS = {
    "", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "q", "r", "s", "t", "v",
    "w", "x", "y", "z", "ch", "sh", "th", "ph", "kh", "ng", "nh", "tr", "br", "bl", "cr", "cl",
    "dr", "fr", "fl", "gr", "gl", "kr", "kl", "pr", "pl", "st", "sp", "sk", "sw", "wh", "qu",
}
_FOREIGN_CODAS = {"": "", "n": "n", "m": "m", "ng": "ng", "t": "t", "c": "c", "k": "c",
                  "p": "p", "l": "n", "r": "", "s": "t", "x": "c", "nh": "nh", "ch": "ch"}
_FOREIGN_ONSET_MAP = {"j": "gi", "f": "ph", "z": "d", "w": "u", "y": "d", "sh": "s", "q": "qu",
                      "k": "c", "kr": "cr", "kl": "cl"}
# Syllables that would sound crude or comic on a loudspeaker once a reader adds a tone.
UNSAYABLE_SYLLABLES = {"lon", "cac", "dit", "deo", "dech", "buoi", "du", "dai", "cut", "dam", "ia",
                       "dach"}
# Toneless parts of a web or e-mail address that a speech engine must voice with a
# rising or falling tone (they end in a stop), and would then say a crude word.
UNSAYABLE_ADDRESS = {"dit", "cac", "cut", "dech", "dach", "buoi", "lon", "deo"}
_STOP_TONE = {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú", "y": "ý"}


# Names of recent storms and typhoons in the East Sea, which news lines use on their own
# ("Yagi tăng cấp rất nhanh"); read like any foreign name.
STORM_NAMES = {
    "yagi", "kalmaegi", "ragasa", "bualoi", "wipha", "kajiki", "trami", "noru", "molave",
    "usagi", "toraji", "yinxing", "matmo", "haiyan", "rammasun", "linfa", "vamco", "goni",
    "talim", "doksuri", "sonca", "nalgae", "chanthu", "haikui", "podul", "kammuri",
    "tembin", "mangkhut", "koinu", "krathon", "saola", "nesat", "sinlaku", "mirinae",
    "kompasu", "sarika", "nakri", "bebinca", "pabuk", "sepat", "manyi", "danas", "nongfa",
    "krosa", "fengshen", "hagupit", "jangmi", "kujira", "neoguri", "maysak", "haishen",
    "hagibis", "mekkhala",
}


def read_foreign(word: str) -> str | None:
    """Read a foreign name as syllables ('YAGI' -> 'Da gi'), or None when it is no word."""
    low = word.lower()
    if not low.isascii() or not low.isalpha() or len(low) < 4:
        return None
    # 'y' is a vowel unless a vowel follows it ("YAGI" opens with a consonant).
    vowel = [ch in "aeiou" or (ch == "y" and (k + 1 == len(low) or low[k + 1] not in "aeiou"))
             for k, ch in enumerate(low)]
    runs: list[str] = []  # alternating consonant and vowel runs, starting with consonants
    k = 0
    while k < len(low):
        j = k
        while j < len(low) and vowel[j] == vowel[k]:
            j += 1
        if not runs and vowel[k]:
            runs.append("")
        runs.append(low[k:j])
        k = j
    if len(runs) % 2 == 0:
        runs.append("")
    nuclei = runs[1::2]
    if len(nuclei) < 2 or any(len(n) > 2 for n in nuclei):
        return None
    onsets, codas = [runs[0]], []
    for between in runs[2:-1:2]:
        # Between two vowels: one consonant or a known cluster opens the next syllable.
        if between in _FOREIGN_ONSETS:
            codas.append("")
            onsets.append(between)
        elif between[:1] in _FOREIGN_CODAS and between[1:] in _FOREIGN_ONSETS:
            codas.append(between[:1])
            onsets.append(between[1:])
        elif between[:2] in _FOREIGN_CODAS and between[2:] in _FOREIGN_ONSETS:
            codas.append(between[:2])
            onsets.append(between[2:])
        else:
            return None
    codas.append(runs[-1])
    out = []
    for onset, nucleus, coda in zip(onsets, nuclei, codas):
        if onset not in _FOREIGN_ONSETS or coda not in _FOREIGN_CODAS:
            return None
        onset = _FOREIGN_ONSET_MAP.get(onset, onset)
        if onset == "c" and nucleus[0] in "iey":
            onset = "k"
        if onset == "gi" and nucleus[0] == "i":
            onset = "g"
        if nucleus == "ae":
            nucleus = "e"  # Korean "ae" is an open e: "Kalmaegi" is "Can me gi"
        if onset == "u" and nucleus == "i":
            onset, nucleus = "", "uy"  # "WIPHA" is "Uy pha", not "Ui pha"
        coda = _FOREIGN_CODAS[coda]
        if coda == "ng" and nucleus == "i":
            coda = "nh"  # Vietnamese spells that rhyme "inh": "Yinxing" is "Din xinh"
        elif coda == "ng" and nucleus == "o":
            nucleus = "ô"  # as in "Mê Kông", "Hồng Kông": "VONGFONG" is "Vông phông"
        if coda in {"t", "c", "p", "ch"}:
            # A syllable closed by a stop takes the rising tone in Vietnamese.
            nucleus = nucleus[:-1] + _STOP_TONE[nucleus[-1]]
        syllable = onset + nucleus + coda
        bare = unicodedata.normalize("NFD", syllable).encode("ascii", "ignore").decode()
        if bare in UNSAYABLE_SYLLABLES:
            return None
        out.append(syllable)
    return _cap(" ".join(out))


def spell(word: str) -> str:
    """Spell a token letter by letter with Vietnamese letter names, digits as numbers."""
    out: list[str] = []
    for run in re.findall(r"\d+|[^\W\d_]", word):
        if run.isdecimal():
            out.append(cardinal(str(int(run))))
        elif not run.isalpha():
            out.append(SUPERSCRIPTS.get(run, ""))
        else:
            base = run.lower()
            name = LETTER_NAMES.get(base)
            if name is None:
                stripped = "".join(
                    c for c in unicodedata.normalize("NFD", base) if not unicodedata.combining(c)
                )
                name = LETTER_NAMES.get(stripped, base)
            out.append(name)
    return " ".join(out)


# Capitals then a lower-case tail that carries a Vietnamese mark ("VIệt", "NGƯời").
_STRAY_CAPITAL_RE = re.compile(r"[^\W\d_]+[ăâêôơưđàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ][a-zà-ỹđ]*")
_MARKED_RE = re.compile(r"[ăâêôơưđàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]")
_VOWEL_GROUP_RE = re.compile(r"[aeiouy]+")


@functools.lru_cache(maxsize=8192)
def split_glued(token: str) -> tuple[str, ...] | None:
    """Split Vietnamese syllables written without spaces ("Biênphòng", "TuMơRông"), or None.

    Only a word with Vietnamese marks and two vowel groups: a Vietnamese syllable has one,
    so such a word is several syllables that lost their spaces, not a foreign name.
    """
    if not _MARKED_RE.search(token.lower()):
        return None
    bare = _bare(token)
    if len(bare) != len(token) or len(_VOWEL_GROUP_RE.findall(bare)) < 2:
        return None
    if any(ch.isupper() for ch in token[1:]):
        # Capitals inside mark the cuts: "TuMơRông", and "củaTrung", "thuộcBộ" where a page
        # lost the space before a capitalised word.
        starts = sorted({0} | {k for k, ch in enumerate(token) if ch.isupper()}) + [len(token)]
        pieces = [token[a:b] for a, b in zip(starts, starts[1:])]
        if all(_syllable(_bare(p)) and _tone_fits(p) for p in pieces):
            return tuple(pieces)
        return None
    n = len(bare)
    best: list[tuple[int, int] | None] = [None] * (n + 1)
    best[0] = (0, 0)
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(i + 1, min(n, i + 7) + 1):
            if (_syllable(bare[i:j]) and _tone_fits(token[i:j])
                    and (best[j] is None or best[i][0] + 1 <= best[j][0])):
                # "<=": of two equal splits keep the later cut, so the next syllable keeps
                # its consonant ("biên|phòng", never "biênp|hòng").
                best[j] = (best[i][0] + 1, i)
    if best[n] is None:
        return None
    cuts, j = [], n
    while j > 0:
        i = best[j][1]  # type: ignore[index]
        cuts.append(token[i:j])
        j = i
    return tuple(reversed(cuts))


# Spellings Vietnamese never writes, though the unaccented address syllable allows them: a final
# "k", "k" before a, o, u and "c", "g", "ng" before i, e, y. Highland names glued on purpose
# ("Đakrông", "Krôngpa") have them and stay whole.
_NOT_VIETNAMESE_RE = re.compile(r"k$|^k[aou]|^(?:c|g|ng)[iey]|^(?:gh|ngh)[aou]")


_STOP_TONES = {"\u0301", "\u0323"}


def _tone_fits(piece: str) -> bool:
    """Say whether a marked syllable's tone suits its final: after p, t, c, ch only sắc or nặng.

    "đểtải" is "để tải", never "đểt ải": no Vietnamese syllable ends in "t" with a hỏi tone.
    """
    if not piece or piece[-1].lower() not in "ptch" or piece[-2:].lower() in ("nh", "ng"):
        return True
    if piece[-1].lower() == "h" and piece[-2:].lower() != "ch":
        return True
    return any(c in _STOP_TONES for c in unicodedata.normalize("NFD", piece))


def _syllable(bare: str) -> bool:
    return (bool(_SYLLABLE_RE.fullmatch(bare)) and not _BAD_RHYME_RE.search(bare)
            and not _NOT_VIETNAMESE_RE.search(bare))


def segment_syllables(
    label: str, spell_rest: bool = False, initials: frozenset[str] = frozenset()
) -> list[str] | None:
    """Split an unaccented run ('dichvucong') into syllables, or None when it cannot be.

    With `spell_rest`, letters that fit no syllable are spelled ('sotnmt' -> 'sot en em tê');
    runs found in `initials` (known abbreviations: 'tnmt', 'ubnd') are spelled as a whole,
    so 'sotnmt' is 'so tê en em tê' and 'vpubnd' is 'vê pê u bê en đê'.
    """
    n = len(label)
    best: list[tuple[int, int] | None] = [None] * (n + 1)  # (cost, previous cut)
    best[0] = (0, 0)
    for i in range(n):
        if best[i] is None:
            continue
        if spell_rest and (best[i + 1] is None or best[i][0] + 3 < best[i + 1][0]):
            best[i + 1] = (best[i][0] + 3, i)  # one spelled letter costs more than a syllable
        for j in range(i + 1, min(n, i + 8) + 1):
            piece = label[i:j]
            cost = 0
            if (_SYLLABLE_RE.fullmatch(piece) and not _BAD_RHYME_RE.search(piece)
                    and piece not in UNSAYABLE_ADDRESS):
                cost = 1
            elif piece in initials:
                # Cheaper than spelling its letters one by one, dearer than syllables:
                # "antoancovid" stays "an toan co vi đê".
                cost = 3 * len(piece) // 2
            if cost:
                cand = (best[i][0] + cost, i)
                if best[j] is None or cand[0] < best[j][0]:
                    best[j] = cand
    if best[n] is None:
        return None
    cuts: list[str] = []
    j = n
    while j > 0:
        i = best[j][1]
        piece = label[i:j]
        if piece in initials:
            cuts.append(spell(piece))
        else:
            cuts.append(piece if j - i > 1 or piece in _VOWELS else spell(piece))
        j = i
    return list(reversed(cuts))


class WordPass:
    """Turn tokens into speakable words with one lexicon."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lex = lexicon
        # Words left in the company name being read (0 outside one).
        self.company = 0
        # What the last reading did, for explanations (see speak()).
        self.rule = ""
        self.unsure = False
        # When set, run() appends one (written, spoken, rule, unsure) per token here.
        self.trace: list[tuple[str, str, str, bool]] | None = None
        # First-pass readings by spoken words: (rule, written), consumed in order.
        self.first_pass: dict[str, list[tuple[str, str]]] = {}
        # The text being read, for abbreviations that depend on the whole line.
        self.line = ""
        # Whether "H.Tuy Phong" at the token being read may be a place: not after a title,
        # a byline word ("Theo H.Anh") or a person's name ("Nguyễn Văn H.Anh").
        self.place_ok = False

    # --- web addresses (called from the first pass)

    def address_label(self, label: str) -> str:
        """Read one part of a domain or e-mail name."""
        low = label.lower()
        if low in ADDRESS_WORDS:
            return ADDRESS_WORDS[low]
        hit = self.lex.get(label)
        if hit is not None:
            return hit
        # "easup", "krongpac", "buonmathuot": a dictionary name written without marks or spaces.
        unmarked = self._unmarked()
        hit = unmarked.get(low)
        if hit is not None:
            return hit
        for prefix, unit in ADDRESS_UNITS:
            # "xaeatu", "huyenkrongpac": a commune or district before its name.
            if low.startswith(prefix) and low[len(prefix):] in unmarked:
                return f"{unit} {unmarked[low[len(prefix):]]}"
        for cut in range(2, len(low) - 3):
            # "ytedongthap", "soytequangnam": a known word before a province or dictionary name.
            head, tail = low[:cut], low[cut:]
            if tail in unmarked and head in ADDRESS_WORDS:
                return f"{ADDRESS_WORDS[head]} {unmarked[tail]}"
            if head in unmarked and tail in ADDRESS_WORDS:
                return f"{unmarked[head]} {ADDRESS_WORDS[tail]}"  # "hochiminhcity", "quangnamportal"
        if any(ch in _VOWELS for ch in low):
            parts = segment_syllables(low) if low.isascii() else None
            if parts:
                return " ".join(parts)
        if len(low) <= 4 or not low.isascii():
            return spell(low)
        # Never a raw cluster: syllables where they fit, known initials ("ubnd", "tnmt")
        # and letter names for the rest.
        parts = segment_syllables(low, spell_rest=True, initials=self._initials())
        return " ".join(parts or [spell(low)])

    def _initials(self) -> frozenset[str]:
        """Lower-case all-capital abbreviations of the dictionary ("ubnd", "tnmt")."""
        table = getattr(self.lex, "_initials", None)
        if table is None:
            # Acronyms said as words ("COVID", "OCOP") are left to the syllable reading.
            table = frozenset(
                k.lower().replace("đ", "d") for k in self.lex.entries
                if k.isupper() and k.isalpha() and len(k) >= 3 and k.replace("Đ", "D").isascii()
                and not is_vietnamese_word(k) and read_foreign(k) is None
            )
            self.lex._initials = table  # type: ignore[attr-defined]
        return table

    def _unmarked(self) -> dict[str, str]:
        """Dictionary names keyed without marks, spaces or apostrophes ("krongpac")."""
        table = getattr(self.lex, "_unmarked", None)
        if table is None:
            table = {}
            for written, spoken in self.lex.entries.items():
                if any(ch.islower() for ch in written) and " " in written:
                    table.setdefault(_bare(written), spoken)
            for name in PROVINCES:
                table.setdefault(_bare(name), name)
            self.lex._unmarked = table  # type: ignore[attr-defined]
        return table

    # --- words

    def speak(self, token: str, next_token: str = "") -> str:
        """Say one token that no multi-word entry matched.

        Leaves in `self.rule` which reading applied and sets `self.unsure` when the
        reading is a guess (spelled letters, a foreign name, a script we cannot read).
        """
        if self.company and token in COMPANY_READINGS:
            return self._said("company", COMPANY_READINGS[token])
        if token in EXACT_CASE:
            return self._said("dictionary", EXACT_CASE[token])
        hit = self.lex.get(token)
        if hit is not None:
            if token in _CONTEXT_TOKENS:
                ctx = self._context(token, "", next_token)
                if ctx is not None:
                    return self._said("context", ctx)
            return self._said("dictionary", hit)
        if (len(token) >= 3 and (token.isascii() or "đ" in token or "Đ" in token)
                and token.isalpha() and not token.isupper()):
            # "Ubnd", "UBNd", "ubnd": an abbreviation typed without its capitals.
            hit = self._uncapitalised(token)
            if hit is not None:
                return self._said("dictionary", hit)
        if token.isalpha():
            if (not token.isascii() and token[1:2].isupper() and not token.isupper()
                    and _STRAY_CAPITAL_RE.fullmatch(token) and is_vietnamese_word(token)):
                # "VIệt", "NGười": a capital held too long on a marked word; marks never
                # occur in initials, so this is the word.
                return self._said("casing", token[0] + token[1:].lower())
            if len(token) >= 4 and not token.isascii() and not token.isupper():
                glued = split_glued(token)
                if glued is not None and len(token) == 4 and not all(
                    _MARKED_RE.search(p.lower()) for p in glued
                ):
                    glued = None  # "canô" is one written word; "sởdữ" is two marked syllables
                if glued is not None:
                    # "Biênphòng", "TuMơRông": syllables a page lost the spaces between.
                    return self._said("glued", " ".join(glued))
            rest = token[1:]
            if token[0].isupper() and rest.islower() and (token[-1] == "k" or token[:2] in ("Kr", "Kn")):
                highland = _highland(token)
                if highland != token:
                    return self._said("place_name", highland)
            # The common case: an ordinary lower-case or capitalised word.
            if rest.islower() and (token[0].islower() or len(token) > 1):
                return self._said("word", token, unsure=self.trace is not None and not _is_latin(token))
        elif any(ch in token for ch in ".&-"):
            if "-" in token:
                # "PAR-INDEX", "PAR-Index": a dictionary phrase written with a hyphen.
                hit = self.lex.get(token.replace("-", " "))
                if hit is not None:
                    return self._said("dictionary", hit)
            if _INITIALS_RE.fullmatch(token) and self.lex.get(token) is None:
                return self._said("spelled", spell(token), unsure=True)
            joined = token.replace("-", "")
            if joined.isalpha() and joined.lower() in STORM_NAMES:
                # "MAN-YI", "Man-yi": a storm's name written in two parts is one name.
                foreign = read_foreign(joined)
                if foreign:
                    return self._said("foreign", foreign, unsure=True)
            return self._said("compound", self._compound(token))
        if "'" in token or "’" in token:
            return self._said("apostrophe", self._apostrophe(token))
        if "_" in token:
            words = " ".join(self.speak(p) for p in token.split("_") if p)
            return self._said("compound", words)
        if any(ch.isdecimal() or not ch.isalpha() for ch in token):
            return self._said("code", self._mixed(token))
        if not _is_latin(token):
            return self._said("word", token, unsure=True)
        if token.isupper():
            if len(token) >= 2 and set(token) <= set("IVX"):
                v = roman_value(token)
                if v is not None:
                    return self._said("roman", cardinal(str(v)))
            if len(token) == 1:
                # A lone capital: an initial in a name ("Nguyễn Văn B") or a grade.
                if token.lower() in "aeiouyăâêôơư" or not token.isascii():
                    return self._said("word", token)  # a vowel or a Vietnamese word: "A", "Á"
                return self._said("letter", _cap(spell(token)))
            if is_vietnamese_word(token):
                return self._said("capitals", token.lower())
            for prefix, office in _OFFICE_PREFIXES.items():
                # "VPUBND", "BQLDA": an office of a body the dictionary knows, written as one word.
                body = self.lex.get(token[len(prefix):]) if token.startswith(prefix) else None
                if body is not None and len(token) > len(prefix) + 1:
                    return self._said("dictionary", f"{office} {body}")
            if len(token) == 2 and _SYLLABLE_RE.fullmatch(token.lower()) and self._in_heading():
                # "CÔNG TY", "CAO SU", "XÃ IA GRAI": in a heading written in capitals a
                # two-letter syllable the dictionary does not know is a word, not initials.
                return self._said("capitals", token.lower())
            foreign = read_foreign(token)
            if foreign:
                return self._said("foreign", foreign, unsure=True)
            return self._said("spelled", spell(token), unsure=True)
        if token[0].isupper() and any(ch.isupper() for ch in token[1:]) and not any(
            ch in _VIET_LETTERS for ch in token.lower()
        ):
            # Mixed-case initials like "ThS" or "TTr" that the dictionary lacks.
            upper = sum(ch.isupper() for ch in token)
            if len(token) <= 4 and upper * 2 >= len(token):
                return self._said("spelled", spell(token), unsure=True)
        if token.isascii() and any(ch.isupper() for ch in token[1:]):
            brand = self._camel(token)
            if brand is not None:
                return self._said("brand", brand, unsure=True)
        return self._said("word", token)

    def _camel(self, token: str) -> str | None:
        """Read a brand written in joined words ("VietinBank", "VNPost", "iGate"), or None.

        Only when one part is a known word: capitals inside are spelled ("VN" is "vê en"),
        other parts come from the dictionary or stay as written.
        """
        parts = _CAMEL_RE.findall(token)
        if len(parts) < 2 or "".join(parts) != token:
            return None
        out, known = [], False
        for k, part in enumerate(parts):
            said = BRAND_PARTS.get(part)
            if said is not None:
                known = True
            elif part.isupper():
                said = spell(part)
            elif k == 0 and part in _BRAND_PREFIXES:
                said = _BRAND_PREFIXES[part]
            elif (place := self._unmarked().get(part.lower())) is not None:
                said, known = place, True  # "HueIOC", "DanangFantasticity": a city's service
            else:
                said = self.lex.get(part)
                known = known or said is not None
            out.append(said if said is not None else part)
        return " ".join(out) if known else None

    def _in_heading(self) -> bool:
        """Say whether the line is written in capitals (a heading), not running text."""
        upper = sum(ch.isupper() for ch in self.line)
        return upper >= 6 and upper >= 4 * sum(ch.islower() for ch in self.line)

    def _uncapitalised(self, token: str) -> str | None:
        """Reading of an all-capital entry typed in lower or mixed case, or None."""
        # Callers pass only ASCII or Đ words: every all-capital entry is written with those.
        upper = token.upper()
        if upper not in self.lex.entries or upper in _CONTEXT_TOKENS:
            return None
        # A Vietnamese or foreign word spelled the same ("Bao", "Tin", "Zalo") stays a word,
        # unless the capitals are themselves said as a word: "Papi", "Sipas" are the indices.
        if is_vietnamese_word(upper):
            return None
        hit = self.lex.get(upper)
        if read_foreign(token) is not None and (not token[0].isupper() or hit == spell(upper)):
            return None
        return hit

    def _context(self, token: str, prev: str, nxt: str) -> str | None:
        """Reading of an abbreviation whose meaning depends on its neighbours, or None."""
        if token in ("TT", "TTr") and (nxt in _STANDING_NEXT or prev == "PBT"):
            return "Thường trực"
        if token == "TT" and prev in ("Đài", "đài"):
            return "truyền thanh"  # "Đài TT huyện": the district radio station
        if token == "BT" and (nxt in _SECRETARY_NEXT or ("PBT" in self.line and _SECRETARY_PAIR_RE.search(self.line))):
            return "Bí thư"  # "BT Huyện ủy"; "chức danh BT, PBT": beside its deputy
        if token == "BCH" and nxt in _COMMAND_NEXT:
            return "Ban Chỉ huy"
        if token == "BBT" and nxt in _EDITORS_NEXT:
            return "Ban biên tập"
        if token == "ĐH" and _CONGRESS_RE.search(self.line) and not _SCHOOL_RE.search(self.line):
            return "đại hội"
        return None

    def _said(self, rule: str, words: str, unsure: bool = False) -> str:
        self.rule = rule
        self.unsure = self.unsure or unsure
        return words

    def _mixed(self, token: str) -> str:
        # Codes like "VN245", "AT2", "H5N1": capitals are spelled, not looked up
        # ("VN" alone is "Việt Nam", but flight VN245 is "vê en").
        out = []
        for run in _RUNS_RE.findall(token):
            if run[0].isdecimal():
                # "C06", "PC06", "A05": a zero-led number inside a code is dictated ("xê không sáu").
                out.append(digit_words(run) if run[0] == "0" and len(run) > 1 else cardinal(run))
            elif not run.isalpha():
                out.append(SUPERSCRIPTS.get(run, ""))
            elif run in ROAD_PREFIXES:
                out.append(ROAD_PREFIXES[run])
            elif run in ("KV", "kV", "Kv") and out and token[0].isdecimal():
                out.append("ki lô vôn")  # "500KV": a power line's voltage
            elif run in CODE_WORDS:
                out.append(CODE_WORDS[run])  # "E5RON92", "RON95-III": the fuel grade is said "rôn"
            elif run == "TW" and re.fullmatch(r"TW\d{1,2}", token):
                out.append("Trung ương")  # "NQ TW4": the Party's fourth plenum, not a code
            elif (run.isupper() and len(run) <= 4) or len(run) == 1:
                out.append(spell(run))
                self.unsure = True
            else:
                out.append(self.speak(run))
        return " ".join(w for w in out if w)

    def _compound(self, token: str) -> str:
        parts = re.split(r"([.&\-])", token)
        out: list[str] = []
        brand = False  # a city's service ("Hue-S"): its letters are a name's, said in lower case
        for i, part in enumerate(parts):
            if not part:
                continue
            if part == "&":
                out.append(" và ")
            elif part == "-":
                if _is_code_range(parts, i):
                    out.append(" đến ")
                elif self._two_bodies(parts, i):
                    out.append(", ")  # "HĐND-UBND", "ANTT-ATXH": two bodies or fields
                else:
                    out.append(" ")
            elif part == " ":
                out.append(" ")
            elif part == ".":
                left = parts[i - 1] if i else ""
                right = parts[i + 1] if i + 1 < len(parts) else ""
                # "tỉnh.Theo" is a missing space after a full stop; "PGS.TS" is two titles.
                if left.islower() and right[:1].isupper():
                    out.append(". ")
                else:
                    out.append(" ")
            else:
                if (i == 0 and part in ("H", "X") and len(parts) > 2 and parts[1] == "."
                        and _is_name(parts[2]) and self.place_ok):
                    # "H.Tuy Phong", "X.Ea Tu": a district or commune written without a space.
                    out.append(PLACE_INITIALS[part])
                    parts[1] = " "
                    continue
                if i + 1 < len(parts) and parts[i + 1] == ".":
                    # "Q.1", "P.7": the part with its dot may be an abbreviation.
                    dotted = self.lex.get(part + ".")
                    if dotted is not None:
                        out.append(dotted)
                        parts[i + 1] = " "
                        continue
                place = self._unmarked().get(part.lower()) if part.isascii() and part.istitle() else None
                if place is not None and token.isascii() and all(
                    p.isupper() or p.isdecimal() for p in parts[::2] if p and p != part
                ) and len(parts) > 1:
                    # "Hue-S", "Danang-IOC": a city's name without marks in a service's brand.
                    self.unsure = brand = True
                    out.append(place)
                elif brand and part.isupper():
                    out.append(spell(part))
                else:
                    out.append(self.speak(part))
        return "".join(out).strip()

    def _two_bodies(self, parts: list[str], i: int) -> bool:
        """Say whether the dash at parts[i] joins two abbreviations read as several words each."""
        if i == 0 or i + 1 >= len(parts):
            return False
        for side in (parts[i - 1], parts[i + 1]):
            if not (side.isupper() and side.isalpha() and len(side) >= 3):
                return False
            said = self.lex.get(side)
            if said is None or " " not in said:
                return False
        return True

    def _apostrophe(self, token: str) -> str:
        # Central Highlands names: "H'leo" is said "Hơ leo", "M'Đrắk" "Mơ Đrắk".
        m = re.fullmatch(r"([^\W\d_]+)['’]([^\W\d_]+)", token)
        if not m:
            return token.replace("'", "").replace("’", "")
        head, tail = m.groups()
        if len(head) == 1 and head.lower() not in _VOWELS:
            return f"{head}ơ {tail}"
        return f"{head} {tail}"

    # --- the pass

    def run(self, text: str) -> str:
        """Rewrite a first-pass text into speakable words."""
        if _GLUED_HEADING_GATE_RE.search(text):
            # "… HÀ GIANGHiện nay …": a heading in capitals run into the first sentence.
            text = _GLUED_HEADING_RE.sub(_unglue_heading, text)
        if "." in text:
            # "TT.Ea Drăng", "X.Ea Kao": set the initial apart so the name after it still
            # matches its dictionary entry as a whole.
            text = _GLUED_PLACE_RE.sub(self._unglue, text)
        if "K" in text or "TDP" in text:
            text = _GLUED_AREA_RE.sub(_area, text)
        if ", P " in text or ", Q " in text:
            text = _BARE_PLACE_RE.sub(lambda m: _BARE_PLACE[m.group(1)], text)
        self.line = text
        plain = self.lex.plain
        toks = [(_KINDS[m.lastindex], m.group(m.lastindex)) for m in _SCAN_RE.finditer(text)]
        out: list[str] = []
        sentence_start = True
        line_start = True
        i = 0
        n = len(toks)
        while i < n:
            kind, val = toks[i]
            if kind == NEWLINE:
                self.company = 0
                out.append("\n")
                sentence_start = line_start = True
                i += 1
                continue
            if kind == SPACE:
                out.append(" ")
                i += 1
                continue
            if kind == DONE:
                words = val[1:-1]
                if words.startswith(KEEP_CASE):
                    words = words[1:]
                elif sentence_start:
                    words = _cap(words)
                out.append(words)
                if self.trace is not None:
                    self._trace_first_pass(val[1:-1], words)
                sentence_start = line_start = False
                i += 1
                continue
            if kind == PUNCT:
                if val in ",;:.()!?":
                    self.company = 0
                before = len(out)
                i = self._punct(toks, i, out, line_start)
                said = "".join(out[before:]).strip(" ,.;:?!")
                if self.trace is not None and said:
                    self.trace.append((val, "".join(out[before:]).strip(), "symbol", False))
                if val in SENTENCE_END:
                    sentence_start = True
                elif said and val in SYMBOL_WORDS:
                    # "> 20%" opening a line: "Lớn hơn hai mươi", not "lớn hơn Hai mươi".
                    if sentence_start:
                        out[before:] = [_cap("".join(out[before:]).lstrip())]
                    sentence_start = False
                # Bullets and brackets at the start of a line do not end the "line start".
                if val not in SILENT_CHARS and val not in PAUSE_CHARS and val != "+":
                    line_start = False
                continue
            # A word: try the longest dictionary entry starting here.
            if self.company:
                self.company -= 1
            if val in _COMPANY_STARTS or (val in ("ty", "TY") and _prev_is(toks, i, "công")):
                self.company = _COMPANY_SPAN
            if not self.company and val in plain and self.trace is None:
                # Most words are ordinary words that read as written: known from earlier lines.
                out.append(val)
                sentence_start = line_start = False
                i += 1
                continue
            self.unsure = False
            if self.company and val in COMPANY_READINGS:
                spoken, consumed, dot = COMPANY_READINGS[val], 1, ""
                self.rule = "company"
            elif (val[0] in "ivx" and len(val) > 1 and _LOWER_ROMAN_RE.fullmatch(val)
                  and _after_roman_cue(toks, i)
                  and (val not in _ROMAN_WORDS or not _next_word(toks, i))):
                spoken, consumed, dot = cardinal(str(roman_value(val.upper()))), 1, ""
                self.rule = "roman"
            elif val in PLACE_INITIALS and _is_place_initial(toks, i):
                spoken, consumed, dot = PLACE_INITIALS[val], 2, ""
                self.rule = "place"
            elif _GLUED_VOWEL_NAME_RE.fullmatch(val) and _is_glued_place(toks, i):
                # "H.A Lưới", "X.Y Tý": a place initial glued to a one-vowel name's first syllable.
                spoken, consumed, dot = f"{PLACE_INITIALS[val[0]]} {val[2]}", 1, ""
                self.rule = "place"
            elif val in _PROVINCE_HEADS and (name := _province_in_capitals(toks, i)) is not None:
                # A heading in capitals names a province: "tỉnh Ninh Thuận", not "ninh thuận".
                spoken, consumed, dot = " ".join(name), 2 * len(name) - 1, ""
                self.rule = "capitals"
            elif "-" in val and _span_after_from(toks, i):
                # "từ Quảng Trị-Quảng Nam": two places joined tight after "từ" are a span.
                left, right = val.split("-")
                spoken, consumed, dot = f"{self.speak(left)} đến {self.speak(right)}", 1, ""
                self.rule = "compound"
            elif val in DEPARTMENTS and _prev_word(toks, i, 1) in _DEPARTMENT_HEADS:
                # "Sở TC", "Bộ TP", "Phòng YT": a department named by its initials, not
                # "thành phố" or "Chủ tịch" as the same letters read elsewhere.
                spoken, consumed, dot = DEPARTMENTS[val], 1, ""
                self.rule = "context"
            elif val in ("nd", "ND", "n.d") and _after_street_name(toks, i):
                # "đường Nguyễn Văn Cừ nd": the street's extension, "nối dài".
                spoken, consumed, dot = "nối dài", 1, ""
                self.rule = "dictionary"
            elif val == "VI" and _after_person_title(toks, i):
                # "ThS. VI TIẾN CƯỜNG": the family name Vi, not the numeral six.
                spoken, consumed, dot = "Vi", 1, ""
                self.rule = "capitals"
            elif val in ("VI", "XI") and _in_word_pair(toks, i):
                spoken, consumed, dot = val.lower(), 1, ""
                self.rule = "capitals"
            elif val.isupper() and (pair := self._spaced_pair(toks, i)) is not None:
                spoken, consumed = pair
                dot = ""
                self.rule = "dictionary"
            else:
                self.rule = "dictionary"  # _match may say "context" instead
                spoken, consumed, dot = self._match(toks, i)
            if spoken is None and val[:1].isupper() and val.isascii() and _names_storm(toks, i):
                # "bão Wipha", "cơn bão Toraji": a storm's name, not a Vietnamese word.
                spoken = read_foreign(val)
                if spoken is not None:
                    consumed = 1
                    self.rule = "foreign"
                    self.unsure = True
            if spoken is None:
                self.place_ok = val[1:2] == "." and val[0] in "HX" and _not_after_person(toks, i)
                spoken = self.speak(val, _next_word(toks, i) if val in _CONTEXT_TOKENS else "")
                consumed = 1
                changed = spoken != val
                if (not changed and self.rule == "word" and not self.company and val.islower()
                        and len(plain) < _PLAIN_MAX
                        and val not in PLACE_INITIALS and not _LOWER_ROMAN_RE.fullmatch(val)
                        and not self.lex.max_tokens(val) and self.lex.get(val) is None):
                    plain.add(val)
            else:
                changed = True
            if spoken.startswith("đất ") and _prev_word(toks, i, 1).lower() == "đất":
                spoken = spoken[4:]  # "đất ONT" is "đất ở tại nông thôn", said once
            if changed and sentence_start:
                spoken = _cap(spoken)
            out.append(spoken)
            if self.trace is not None:
                written = "".join(v for _, v in toks[i:i + consumed])
                self.trace.append((written, spoken, self.rule, self.unsure))
            i += consumed
            if dot:
                # The abbreviation's own dot: keep it when it also ends the sentence.
                follow = _peek_after(toks, i)
                ends = follow is None or follow == "\n" or (
                    dot == "lower" and follow[:1].isupper()
                )
                if ends:
                    out.append(".")
                    sentence_start = True
                else:
                    sentence_start = False
            else:
                sentence_start = False
            line_start = False
        return "".join(out)

    def _spaced_pair(self, toks: list, i: int) -> tuple[str, int] | None:
        """Read "KT - XH" as the dictionary's "KT-XH", "KN,TC" as its "KNTC".

        Returns (spoken, tokens consumed), or None.
        """
        j = i + 1
        if (j + 1 < len(toks) and toks[j] == (PUNCT, ",") and toks[j + 1][0] == WORD
                and toks[j + 1][1].isupper()):
            # "đơn KN,TC": two initials joined by a bare comma name one pair of things.
            hit = self.lex.get(toks[i][1] + toks[j + 1][1])
            return None if hit is None else (hit, 3)
        if j < len(toks) and toks[j][0] == SPACE:
            j += 1
        if j >= len(toks) or toks[j][0] != PUNCT or toks[j][1] not in "-–":
            return None
        j += 1
        if j < len(toks) and toks[j][0] == SPACE:
            j += 1
        if j == i + 2 or j >= len(toks) or toks[j][0] != WORD or not toks[j][1].isupper():
            return None  # "KT-XH" written tight is one token already
        hit = self.lex.get(f"{toks[i][1]}-{toks[j][1]}")
        return None if hit is None else (hit, j - i + 1)

    def _unglue(self, m: re.Match) -> str:
        # A one-letter initial may be a person's ("Nguyễn Văn H.Anh"): set it apart only
        # before a name the dictionary reads as a whole ("X.Ea Kao").
        if len(m.group(1)) > 1 or self.lex.max_tokens(m.group(2)) > 1:
            return f"{m.group(1)}. "
        return m.group(0)

    def _trace_first_pass(self, raw: str, words: str) -> None:
        queue = self.first_pass.get(raw)
        rule, written = queue.pop(0) if queue else ("number", "")
        self.trace.append((written, words, rule, False))  # type: ignore[union-attr]

    def _match(self, toks: list, i: int) -> tuple[str | None, int, str]:
        first = toks[i][1]
        maxn = self.lex.max_tokens(first)
        if not maxn:
            return None, 0, ""
        words = [first]
        j = i
        while len(words) < maxn:
            if j + 2 < len(toks) and toks[j + 1][0] == SPACE and toks[j + 2][0] == WORD:
                words.append(toks[j + 2][1])
                j += 2
            else:
                break
        for k in range(len(words), 0, -1):
            key = " ".join(words[:k])
            last = i + 2 * (k - 1)
            if last + 1 < len(toks) and toks[last + 1] == (PUNCT, "."):
                hit = self.lex.get(key + ".")
                if hit is not None:
                    style = "lower" if key[:1].islower() else "title"
                    return hit, 2 * k, style
            hit = self.lex.get(key)
            if hit is not None:
                if k == 1 and key in _CONTEXT_TOKENS:
                    prev = _prev_solid(toks, i)
                    if key == "KV" and prev is not None and prev[0] == DONE:
                        # "đường dây 22 KV": after a number it is the kilovolt, not "khu vực".
                        self.rule = "context"
                        return "ki lô vôn", 1, ""
                    ctx = self._context(key, prev[1] if prev and prev[0] == WORD else "",
                                        _next_word(toks, i))
                    if ctx is not None:
                        self.rule = "context"
                        return ctx, 1, ""
                return hit, 2 * k - 1, ""
        return None, 0, ""

    def _punct(self, toks: list, i: int, out: list[str], line_start: bool) -> int:
        val = toks[i][1]
        if val in KEEP_PUNCT:
            out.append(val)
            return i + 1
        if val == "…":
            out.append("...")
            return i + 1
        if val == "/":
            left = _prev_solid(toks, i)
            right = _next_solid(toks, i)
            if left is None or right is None:
                out.append(" ")
            elif _last_word(left[1]).lower() in PER_LEFT and right[0] in (WORD, DONE):
                out.append(" một ")
            elif _last_word(left[1]).lower() in MEASURE_LEFT and right[0] in (WORD, DONE):
                # "mm/ngày", "tấn/tấn", "ml/kg" are rates; "lít/gốc" is per tree.
                rate = right[0] == DONE or _first_word(right[1]).lower() in RATE_RIGHT
                out.append(" trên " if rate else " một ")
            elif (right[0] in (WORD, DONE) and _first_word(right[1]).lower() in PER_UNITS
                    and not (left[1].isupper() and right[1][:1].isupper())):
                # A capital after initials is a name, not a unit: "CCCD/Căn cước".
                out.append(" một ")
            elif (right[0] == WORD and right[1].isupper() and left[0] == WORD
                    and (self.lex.get(right[1]) or "").startswith(_PARENT_BODIES)):
                # "Cục Kinh tế/BQP": a body, then the ministry or province it belongs to.
                out.append(", ")
            elif left[0] in (WORD, DONE) and right[0] == DONE and _first_word(right[1])[:1].islower():
                # "mm/3 giờ", "ca/100.000 dân": a rate over a number.
                out.append(" trên ")
            elif (left[0] == WORD and right[0] == WORD and _last_word(left[1]).lower() in ADMIN_LAST
                    and _first_word(right[1]).lower() in ADMIN_FIRST):
                out.append(", ")
            elif left[0] in (WORD, DONE) and right[0] in (WORD, DONE):
                out.append(" hoặc ")
            else:
                out.append(" ")
            return i + 1
        if val in "-‒" and 0 < i < len(toks) - 1 and toks[i - 1][0] in (WORD, DONE) and toks[
            i + 1
        ][0] in (WORD, DONE):
            # A hyphen glued to both sides ("Covid-19") joins, it does not pause.
            out.append(" ")
            return i + 1
        if (val == "-" and 1 < i < len(toks) - 1 and toks[i - 1][0] == SPACE
                and toks[i + 1][0] == WORD and toks[i + 1][1].islower()
                and toks[i - 2][0] == WORD and toks[i - 2][1][1:].islower()):
            # "vi -rút": a loanword's hyphen that slipped away from its first syllable.
            out.append(" ")
            return i + 1
        if val in "-–" and _disease_dash(toks, i):
            # "Covid - 19": one name whose dash slipped spaces around it, no pause.
            out.append(" ")
            return i + 1
        if val in PAUSE_CHARS:
            # A dash or bracket at the start of a line is a bullet: say nothing.
            if line_start:
                out.append(" ")
            elif val in "-–" and _is_compound_dash(toks, i):
                out.append(" ")
            elif val in "-–‒—" and (names := _name_dash(toks, i)):
                out.append(" đến " if names == "range" else " ")
            else:
                out.append(", ")
            return i + 1
        if val in "+" and line_start:
            out.append(" ")
            return i + 1
        if val in "<>" and ((i + 1 < len(toks) and toks[i + 1] == (PUNCT, val))
                            or (i and toks[i - 1] == (PUNCT, val))):
            out.append(" ")  # ">> Hội nghị…", "<< Trở về": a link arrow, not "lớn hơn"
            return i + 1
        if val in SYMBOL_WORDS:
            out.append(f" {SYMBOL_WORDS[val]} ")
            return i + 1
        out.append(" ")
        return i + 1


# Second halves of paired nouns written with a spaced dash ("kinh tế - xã hội"):
# read as one phrase, without a pause.
_COMPOUND_RIGHT = {"xã", "an", "quốc", "thể", "văn", "du", "đào", "môi", "kinh", "chính",
                   "lâm", "thủy", "nông", "y", "giáo", "khoa", "kỹ", "công", "thương",
                   "dịch", "hành", "tài", "ngư", "diêm", "chiến", "cơ", "pháp", "trật"}


def _is_code_range(parts: list[str], i: int) -> bool:
    """Say whether the dash at parts[i] joins two codes of one kind ("BĐ1-BĐ2": a range)."""
    if i == 0 or i + 1 >= len(parts):
        return False
    left, right = _CODE_RANGE_RE.fullmatch(parts[i - 1]), _CODE_RANGE_RE.fullmatch(parts[i + 1])
    return bool(left and right and left.group(1) == right.group(1) and left.group(1) in ROAD_PREFIXES)


def _is_compound_dash(toks: list, i: int) -> bool:
    left = _prev_solid(toks, i)
    right = _next_solid(toks, i)
    if left is None or right is None or left[0] != WORD or right[0] != WORD:
        return False
    return left[1][:1].islower() and right[1] in _COMPOUND_RIGHT


def _name_dash(toks: list, i: int) -> str:
    """Say what a spaced dash between proper names is: "range" ("từ Hà Tĩnh - Quảng Ngãi"),
    "pair" (one name written in two halves: "Thừa Thiên - Huế", "vụ Đông - Xuân") or ""
    (a pause, as in "Việt Nam - Lào" or "Nguyễn Văn A - Chủ tịch")."""
    if not (0 < i < len(toks) - 1 and toks[i - 1][0] == SPACE and toks[i + 1][0] == SPACE):
        return ""
    right = _next_solid(toks, i)
    left = _prev_solid(toks, i)
    if right is None or left is None or right[0] != WORD or left[0] != WORD:
        return ""
    if (left[1], right[1]) in _PAIRED_NAMES:
        return "pair"
    if not _is_name(right[1]) or right[1] in _TITLE_WORDS:
        return ""
    j, names = i - 1, 0
    while j >= 0 and toks[j][0] in (SPACE, WORD) and names < 5:
        if toks[j][0] == WORD:
            if not _is_name(toks[j][1]):
                break
            names += 1
        j -= 1
    before = _prev_solid(toks, j + 1)
    if names and before is not None and before[0] == WORD and before[1].lower() == "từ":
        return "range"
    return ""


def _is_name(word: str) -> bool:
    return word[:1].isupper() and not word.isupper() and word[1:].islower()


def _after_roman_cue(toks: list, i: int) -> bool:
    prev = _prev_solid(toks, i)
    if prev is None or prev[0] != WORD:
        return False
    if prev[1].lower() in _ROMAN_CUES:
        return True
    # "từ hạng iv lên hạng iii", "hạng ii và iii": a second numeral after a first one.
    return prev[1] in ("và", "hoặc", "lên", "xuống") and _LOWER_ROMAN_RE.fullmatch(
        _prev_word(toks, i, 2)) is not None and _prev_word(toks, i, 2) != ""


def _province_in_capitals(toks: list, i: int) -> tuple[str, ...] | None:
    """The province written in capitals from token i ("LAI CHÂU"), as its words, or None."""
    for name in sorted(_PROVINCE_HEADS[toks[i][1]], key=len, reverse=True):
        j = i
        for k, part in enumerate(name):
            if k:
                if j + 2 >= len(toks) or toks[j + 1][0] != SPACE or toks[j + 2][0] != WORD:
                    break
                j += 2
            if toks[j][1] != part.upper():
                break
        else:
            return name
    return None


# Capital letters of Vietnamese, marks included (a range like "Ạ-Ỹ" would take lower case too).
_UPPER_VI = "".join(sorted(
    c for c in map(chr, range(0x41, 0x1EFA))
    if c.isupper() and unicodedata.normalize("NFD", c)[0] in "ABCDEGHIKLMNOPQRSTUVXYĐ"
    and all(unicodedata.combining(x) for x in unicodedata.normalize("NFD", c)[1:])
))
_GLUED_HEADING_GATE_RE = re.compile(rf"[{_UPPER_VI}]{{2}}[a-zà-ỹđ]")
_GLUED_HEADING_RE = re.compile(rf"\b([{_UPPER_VI}]{{2,}})([{_UPPER_VI}][a-zà-ỹđ]+)\b")


def _unglue_heading(m: re.Match) -> str:
    # Only Vietnamese words on both sides: "VNPost" or "UBNDHuyện" are not a heading's end.
    head, tail = m.group(1), m.group(2)
    if is_vietnamese_word(head) and is_vietnamese_word(tail):
        return f"{head}. {tail}"
    return m.group(0)


def _span_after_from(toks: list, i: int) -> bool:
    """Say whether "Trị-Quảng" at i joins two names after "từ" ("từ Quảng Trị-Quảng Nam")."""
    parts = toks[i][1].split("-")
    if len(parts) != 2 or not all(_is_name(p) for p in parts):
        return False
    j, names = i - 1, 0
    while j >= 0 and toks[j][0] in (SPACE, WORD) and names < 4:
        if toks[j][0] == WORD:
            if not _is_name(toks[j][1]):
                return toks[j][1].lower() == "từ"
            names += 1
        j -= 1
    return False


def _disease_dash(toks: list, i: int) -> bool:
    """Say whether the dash at i sits inside a disease's name ("Covid - 19")."""
    left, right = _prev_solid(toks, i), _next_solid(toks, i)
    return (left is not None and right is not None and left[0] == WORD and right[0] == DONE
            and left[1].casefold() in ("covid", "sars-cov"))


_PERSON_TITLES = {"ThS", "TS", "PGS", "GS", "BS", "KS", "NCS", "ông", "Ông", "ÔNG", "bà", "Bà", "BÀ",
                  "anh", "chị", "đồng", "Đồng", "ĐỒNG"}


def _after_person_title(toks: list, i: int) -> bool:
    """Say whether token i follows a person's title ("ThS.", "TS.", "Ông", "đồng chí")."""
    j = i - 1
    while j >= 0 and (toks[j][0] == SPACE or toks[j] == (PUNCT, ".")):
        j -= 1
    if j < 0 or toks[j][0] != WORD:
        return False
    word = toks[j][1].split(".")[-1]  # "PGS.TS"
    return word in _PERSON_TITLES or word.lower() == "chí" and _prev_word(toks, j, 1).lower() == "đồng"


def _in_word_pair(toks: list, i: int) -> bool:
    """Say whether "VI"/"XI" at i is half of a word with its neighbour ("PHẠM VI", "XI MĂNG")."""
    low = toks[i][1].lower()
    prev, nxt = _prev_word(toks, i, 1).lower(), _next_word(toks, i).lower()
    return (prev, low) in _VI_XI_WORDS or (low, nxt) in _VI_XI_WORDS


def _prev_word(toks: list, i: int, n: int) -> str:
    """The n-th word before i (1 = the previous word), or ''."""
    j = i - 1
    while j >= 0 and toks[j][0] != NEWLINE:
        if toks[j][0] == WORD:
            n -= 1
            if n == 0:
                return toks[j][1]
        elif toks[j][0] != SPACE:
            return ""
        j -= 1
    return ""


def _bare(text: str) -> str:
    """Lower-case letters only, without marks: 'Krông Pắc' -> 'krongpac'."""
    low = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in low if c.isalnum() and not unicodedata.combining(c))


_TONE_MARKS = set("\u0300\u0301\u0303\u0309\u0323")


def _highland(token: str) -> str:
    """Write a Central Highlands name the way the dictionary reads them ('Pắk' -> 'Pắc').

    Vietnamese syllables never end in 'k' nor start with 'Kr': names of the Ê Đê and
    M'Nông languages do ("Ea Rốk", "Bông Krang"), and a reader says them with 'c'.
    Only words with Vietnamese tone marks, or one plain syllable ("Krông Pak", "Dak Lak"),
    change at the end, so English 'Facebook' stays.
    """
    out = token
    if out[:2] == "Kr":
        out = "Cr" + out[2:]
    elif out[:2] == "Kn" and len(out) > 2 and out[2] in "aeiouyâêôơư":
        out = "Cơ n" + out[2:]  # "Knia", like the dictionary's "Ea Knốp": "Cơ Nốp"
    if out == "Dak":
        out = "Đak"  # the Highland word for water, written without its bar
    if not out.isascii() or _SYLLABLE_RE.fullmatch(out.lower()):
        tail = unicodedata.normalize("NFD", out[-2:])
        if tail[-1] == "k" and tail[0] in "aeiouy":
            marks = tail[1:-1]
            if not any(m in _TONE_MARKS for m in marks):
                marks += "\u0301"  # a closed syllable takes a tone: "Đak" is "Đắc" like "Đăk"
                if tail[0] == "a" and "\u0306" not in marks and "\u0302" not in marks:
                    marks = "\u0306" + marks
            out = out[:-2] + unicodedata.normalize("NFC", tail[0] + marks + "c")
    return out


def _is_latin(token: str) -> bool:
    """Say whether every letter of `token` is Latin (Vietnamese included), not Cyrillic or CJK."""
    return token.isascii() or all(
        not ch.isalpha() or ch.isascii() or "LATIN" in unicodedata.name(ch, "") for ch in token
    )


def _names_storm(toks: list, i: int) -> bool:
    """Say whether the word at i names a storm: "bão Wipha", "tên quốc tế là Toraji",
    "(tên gọi Yinxing)", "hai cơn bão mới, Usagi và Manyi"."""
    words = []
    j = i - 1
    while j >= 0 and len(words) < 6 and toks[j][0] != NEWLINE:
        if toks[j][0] == WORD:
            words.append(toks[j][1].lower())
        j -= 1
    if not words:
        return _storm_line(toks, i)
    if "bão" in words[:2] or words[:2] == ["gọi", "tên"] or words[:3] == ["là", "tế", "quốc"]:
        return True
    # The second of two names: "Usagi và Manyi" after "bão".
    if words[0] == "và" and "bão" in words[2:5]:
        return True
    return _storm_line(toks, i)


def _storm_line(toks: list, i: int) -> bool:
    """Say whether a capitalised foreign word stands in a line about a storm ("so với
    Yagi", "Kalmaegi có thể vượt Yagi"), where such a word is the storm's name."""
    word = toks[i][1]
    if word.lower() in STORM_NAMES:
        return True
    # "so với Yagi": compared with an earlier storm, in a line about storms.
    if not (_prev_word(toks, i, 1) == "với" and _prev_word(toks, i, 2).lower() == "so"):
        return False
    if len(word) < 4 or is_vietnamese_word(word.upper()):
        return False
    return any(t[0] == WORD and t[1] in ("bão", "Bão", "BÃO") for t in toks)


_STREET_WORDS = {"đường", "Đường", "ĐƯỜNG", "phố", "Phố", "đại", "Đại"}


def _after_street_name(toks: list, i: int) -> bool:
    """Say whether the word at i closes a street's name: "đường Nguyễn Văn Cừ nd"."""
    j, seen = i - 1, 0
    while j >= 0 and seen < 6:
        kind, val = toks[j]
        if kind == WORD:
            if seen == 0 and not val[:1].isupper():
                return False
            if val in _STREET_WORDS:
                return seen > 0
            seen += 1
        elif kind == DONE:
            seen += 1  # "đường 3/2 nd", "đường 30/4 nd": a street named by a date
        elif kind != SPACE:
            return False
        j -= 1
    return False


def _prev_is(toks: list, i: int, word: str) -> bool:
    prev = _prev_solid(toks, i)
    return prev is not None and prev[0] == WORD and prev[1].lower() == word


# Words after which "H. Anh" is a person: titles, and the credit words of a byline.
_NOT_PLACE_PREV = {"ông", "bà", "anh", "chị", "em", "cô", "chú", "bác", "cụ", "cháu", "đồng", "chí",
                   "theo", "ảnh", "bài", "nguồn", "tin", "pv", "ctv", "btv", "thực", "hiện"}


# A place-type initial written against the name after it ("TP.Buôn Ma Thuột", "TT.Ea Drăng").
# "KV1", "TDP3", "KP2": an area abbreviation glued to its number in addresses and power-cut lists.
_GLUED_AREA_RE = re.compile(r"(?<![\w.])(KV|TDP|KP)(?=\d{1,3}(?![\w.,/]\w))")
_GLUED_AREA = {"KV": "khu vực ", "TDP": "tổ dân phố ", "KP": "khu phố "}


def _area(m: re.Match) -> str:
    words = _GLUED_AREA[m.group(1)]
    before = m.string[:m.start()].rstrip()
    # Written in capitals, it opens a sentence with a capital too.
    return words.capitalize() if not before or before[-1] in ".!?:\n" else words

# "…, P Tân An", "…, Q Bình Thạnh": a ward or district initial without its dot, inside an address.
_BARE_PLACE_RE = re.compile(r"(?<=, )(P|Q)(?= [A-ZĐ][a-zà-ỹđ]+\b)")
_BARE_PLACE = {"P": "phường", "Q": "quận"}
_GLUED_PLACE_RE = re.compile(r"(?<![\w.])(TP|Tp|TX|Tx|TT|H|X|P|Q)\.(?=([A-ZĐ][^\W\d_]*[a-zà-ỹđ]))")

# "H.A Lưới", "X.Y Tý": huyện or xã written against a name whose first syllable is one vowel.
_GLUED_VOWEL_NAME_RE = re.compile(r"[HX]\.[AEIOUY]")


def _is_glued_place(toks: list, i: int) -> bool:
    """Say whether "H.A" at i opens a place name ("H.A Lưới"), not a person's initials."""
    if i + 2 >= len(toks) or toks[i + 1][0] != SPACE:
        return False
    name = toks[i + 2]
    return name[0] == WORD and _is_name(name[1]) and _not_after_person(toks, i)


def _is_place_initial(toks: list, i: int) -> bool:
    """Say whether 'H' at i is "H. Krông Pắc" (huyện), not an initial in a person's name."""
    if i + 3 >= len(toks) or toks[i + 1] != (PUNCT, ".") or toks[i + 2][0] != SPACE:
        return False
    name = toks[i + 3]
    if name[0] != WORD or not name[1][:1].isupper():
        return False
    return _not_after_person(toks, i)


def _not_after_person(toks: list, i: int) -> bool:
    """Say whether the word before i leaves room for a place, not a person's initial."""
    j = i - 1
    while j >= 0 and toks[j][0] == SPACE:
        j -= 1
    prev = toks[j] if j >= 0 and toks[j][0] != NEWLINE else None
    if prev is None or prev[0] != WORD:
        return True
    if prev[1].lower() in _NOT_PLACE_PREV:
        return False  # "Ông H. Anh", "Theo H. Anh": a person
    if not prev[1][:1].isupper():
        return True
    if prev[1].isupper() and len(prev[1]) >= 2 and not is_vietnamese_word(prev[1]):
        return True  # "UBND H.U Minh Thượng": after a body's initials, never a person's name
    # "Nguyễn Văn H. Anh": after a name the letter is a person's initial; "Tại H. Krông Pắc"
    # opens the sentence with a capital that says nothing.
    before = _prev_solid(toks, j)
    return before is None or (before[0] == PUNCT and before[1] in ".!?:;")


def _cap(words: str) -> str:
    for k, ch in enumerate(words):
        if ch.isalpha():
            return words[:k] + ch.upper() + words[k + 1:]
    return words


def _next_word(toks: list, i: int) -> str:
    j = i + 1
    while j < len(toks) and toks[j][0] == SPACE:
        j += 1
    if j < len(toks) and toks[j][0] == WORD:
        return toks[j][1]
    return ""


def _peek_after(toks: list, i: int) -> str | None:
    j = i
    while j < len(toks) and toks[j][0] == SPACE:
        j += 1
    if j >= len(toks):
        return None
    kind, val = toks[j]
    if kind == NEWLINE:
        return "\n"
    if kind == DONE:
        return val[1:-1]
    return val


def _prev_solid(toks: list, i: int) -> tuple[str, str] | None:
    j = i - 1
    while j >= 0 and toks[j][0] == SPACE:
        j -= 1
    if j < 0 or toks[j][0] == NEWLINE:
        return None
    return toks[j]


def _next_solid(toks: list, i: int) -> tuple[str, str] | None:
    j = i + 1
    while j < len(toks) and toks[j][0] == SPACE:
        j += 1
    if j >= len(toks) or toks[j][0] == NEWLINE:
        return None
    return toks[j]


def _last_word(text: str) -> str:
    text = text.strip("\x01\x02\x03\x04 ")
    return text.rsplit(" ", 1)[-1] if text else ""


def _first_word(text: str) -> str:
    text = text.strip("\x01\x02\x03\x04 ")
    return text.split(" ", 1)[0] if text else ""
