"""What a resident is asking the bot in a private chat, in their own words.

Pure Python, no Telegram, no network, no model: a hand-written lexicon that understands formal
Indonesian, chat Indonesian, Javanese Timuran/Malangan and Malang *walikan* well enough to route a
question to the right canned answer. When unsure it says UNKNOWN, and the caller shows the
fallback menu instead of guessing a wrong fact.

Pipeline (see :func:`classify`):

1. **normalise** - first ``MAX_CHARS`` characters, NFKC, casefold, strip accents, drop emoji and
   punctuation, ``bagi2`` -> ``bagi bagi``, split letters from digits (``c6`` -> ``c 6``,
   ``50rb`` -> ``50 rb``), collapse letters repeated three or more times (``kapaaan`` -> ``kapan``).
2. **canonicalise** every token through :data:`VARIANTS` (``nyoblos``/``coblosan``/``mencoblos``
   -> ``coblos``, ``piro``/``orip``/``brp`` -> ``berapa`` ...). Unknown tokens try a suffix strip
   (``undanganku``, ``coblosane``, ``hasile``) and then a fuzzy match with rapidfuzz (OSA edit
   distance, so ``kapna`` -> ``kapan``; same first letter; words of 5+ letters within one edit,
   10+ within two; 4-letter words only by swapping two letters; shorter words never).
3. **merge** multi-word terms into one token (:data:`MERGES`: ``masa tenang``, ``serangan fajar``,
   ``yok opo`` -> ``gimana``) after dropping filler particles (:data:`FILLERS`: ``e``, ``ta``,
   ``se`` ...).
4. **score** each intent by summing the weights of its cues in :data:`CUES` (each cue counts once).
   A cue is ``"a"`` (a token), ``"a b"`` (adjacent tokens) or ``"a+b"`` (all anywhere in the
   message). Specific cues weigh more than generic ones, which is how conflicts are resolved:
   ``undangan`` beats ``jam berapa``, ``gak terdaftar`` beats ``cek dpt``, money beats ``lapor``.
5. **gate** - a cue marked ``~`` is generic (``kapan``, ``jam``, ``lapor``, ``ktp``): it only counts
   as on-topic when the message also has an election word (:data:`CONTEXT`) or a specific cue, or
   when every word of the message is understood. So "kapan gajian" and "jam berapa pasar buka" are
   UNKNOWN while "jam piro tutup" and "kapan nyoblos" are not. Everyday :data:`OFFTOPIC` words
   ("undangan nikahan", "rapat") without an election word demote even specific cues.
6. **decide** - confidence from the winning score and its margin over the runner-up; below
   :data:`THRESHOLD` -> UNKNOWN. Exact ties go to the more specific intent (:data:`PRIORITY`).

Partisan questions ("pilih siapa yang bagus?", "coblos nomor 2 aja ya?") get their own intent,
:attr:`Intent.NETRAL`, so the bot can say it is neutral instead of showing the generic menu; a
caller that does not handle NETRAL may treat it exactly like UNKNOWN (never answer it).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

__all__ = [
    "MAX_CHARS",
    "THRESHOLD",
    "Intent",
    "Match",
    "classify",
    "explain",
    "normalize",
    "tokens",
]


class Intent(StrEnum):
    KAPAN = "kapan"  # when is the vote / polling date
    JAM = "jam"  # TPS hours, opening/closing time
    TPS = "tps"  # where is my TPS / check DPT / am I registered
    SYARAT = "syarat"  # what to bring (KTP-el, C Pemberitahuan)
    UNDANGAN = "undangan"  # lost or missing invitation / C Pemberitahuan / C6
    DPK = "dpk"  # not on the DPT but has a KTP-el (DPK, 12.00-13.00)
    PINDAH = "pindah"  # moved / vote elsewhere / DPTb / rawat inap / kos mahasiswa
    MASA_TENANG = "masa_tenang"  # what masa tenang forbids
    POLITIK_UANG = "politik_uang"  # money politics, serangan fajar, where to report it
    LAPOR = "lapor"  # report a violation in general (Bawaslu), not money specifically
    HASIL = "hasil"  # official results / quick count / who won
    CARA = "cara"  # how to vote at the TPS, valid ballot, ballot colours, ink
    HAK_PILIH = "hak_pilih"  # who may vote: 17 or married on voting day
    TNI_POLRI = "tni_polri"  # active TNI/Polri members do not vote
    PENDAMPING = "pendamping"  # disabled, elderly, sick voters: a pendamping, secrecy
    HP = "hp"  # phone / camera / photo of the ballot in the booth
    ATRIBUT = "atribut"  # campaign clothing and stickers at the TPS
    DIWAKILKAN = "diwakilkan"  # voting for someone else / with someone else's invitation
    HITUNG = "hitung"  # the count at the TPS is public
    ANTRE = "antre"  # queueing at 13.00, the "saran waktu" on the invitation
    GOLPUT = "golput"  # not voting carries no fine
    TERIMA_KASIH = "terima_kasih"  # thanks -> "sama-sama"
    BANTUAN = "bantuan"  # greetings, help, menu
    NETRAL = "netral"  # partisan ("who should I vote for"): the bot declines, stays neutral
    UNKNOWN = "unknown"  # anything else -> fallback menu


@dataclass(frozen=True)
class Match:
    intent: Intent
    score: float  # 0..1 confidence (for UNKNOWN: of the best guess it rejected, 0 if none)
    matched: tuple[str, ...]  # the cue words that decided it, for debugging


# --------------------------------------------------------------------------------------------
# Lexicon (data). Everything is written casefolded and without punctuation, as the normaliser
# produces it. Keys of VARIANTS are the canonical tokens the cues below are written in.
# --------------------------------------------------------------------------------------------

MAX_CHARS = 500  # only the start of a message is read: cheap, and questions come first anyway
MAX_TOKENS = 120
THRESHOLD = 0.35

# canonical token -> spellings that mean the same here (formal / chat / Javanese / walikan),
# space-separated
VARIANTS: dict[str, str] = {
    # --- election context (CONTEXT below) ---
    "coblos": (
        "nyoblos mencoblos coblosan nyoblosan dicoblos pencoblosan nyoblose nyobloske coblose "
        "coblosane nyoblosnya nyobolos nyblos"
    ),
    "pilkada": (
        "pilwali pilwalkot pilwakot pilgub pemilu pemilihan pilbup pilkades pilkadanya pilkadane "
        "election"
    ),
    "tps": "tpsnya tpse",
    "kpu": "",
    "kpps": "kppsnya",
    "pemilih": "pemilihe",
    "memilih": "",  # formal "pindah memilih", "hak memilih"
    "pemungutan": "",
    "suara": "suoro",
    "calon": "paslon cawali cawalkot cagub kandidat calone paslone calonnya",
    "gubernur": "gubenur",
    "walikota": "walkot wakot",
    "dpt": "dpte",
    "dptb": "",
    "dpk": "",
    # --- time ---
    "kapan": "kpn kapn kapane kapankah kapanan",
    "berapa": "brp brapa berapakah brpa piro pira orip pinten",
    "tanggal": "tgl tanggale tangal tanggalnya",
    "hari": "dino dina hr harinya dinane",
    "bulan": "wulan sasi",
    "weekday": "senin selasa rabu kamis jumat sabtu rebo kemis jemuah setu slasa",
    "minggu": "ahad",
    "besok": "sesuk mbesok besuk",
    "libur": "prei liburan diliburkan preine libure",
    "november": "nov nopember",
    "jam": "jm pukul pkl jame jamnya",
    "buka": "bukak dibuka dibukak mbukak bukae bukanya",
    "tutup": "ditutup tutupe tutupnya ttp",
    "mulai": "dimulai mulaine wiwit mulainya",
    "sampai": "sampe sampek smp nganti ngantos hingga",
    "pagi": "isuk esuk enjing",
    "siang": "awan ngawan",
    "telat": "terlambat kesiangan kasep",
    "layani": "dilayani melayani dilayano dilayanani",
    "setengah": "",
    # --- place / registration ---
    "mana": "endi ndi dimana dmn dmna kemana kmn ngendi nangdi ndekndi nendi manakah",
    "lokasi": "alamat lokasine alamate",
    "tempat": "tempate nggon panggonan",
    "nomor": "nomer no nmr nomere nomore nomernya",
    "cek": "ngecek check mengecek dicek ngecheck cari nyari",
    "cekdptonline": "cekdpt",
    "terdaftar": (
        "kedaftar tercantum tercatat didaftar didaftarkan kedaftarkan terdaftarkah kedata terdata"
    ),
    "daftar": "",
    "nama": "jeneng aran namane",
    "nik": "nike",
    "ada": "onok ono ana enek nok",
    "muncul": "tampil nongol",
    "masuk": "mlebu",
    "keluar": "metu utem kluar",
    # --- negation (one token for all of them) ---
    "gak": "ga nggak tidak tdk ndak nda gk g ora kadit enggak engga ngga gag kagak ra",
    "belum": "blm durung drg urung belom blom",
    # --- documents ---
    "bawa": (
        "dibawa membawa bawaan nggowo ngowo gowo digowo gawa digawa nggawa bawak bawain ngegowo"
    ),
    "syarat": "persyaratan syarate sarat syaratnya persyaratane",
    "ktp": "ektp ktpel ktpe ktpnya",
    "suket": "",
    "keterangan": "",
    "kk": "",
    "ikd": "",
    "digital": "",
    "foto": "poto fotone",
    "fotokopi": "fotocopy fc fotokopian copy kopian fotokopine",
    "dokumen": "berkas dokumene",
    "identitas": "biodata",
    "ketinggalan": "keri kelalen lupa",
    "undangan": "ulem ulemane undangane undangannya undanganne",
    "pemberitahuan": "pemberitauan",
    "kwk": "",
    "c": "",
    "hilang": "ilang ilange ketlisut kesingsal raib kelangan kecer",
    "rusak": "sobek kesobek robek suwek",
    "dapat": "dapet olih nampa",
    "oleh": "entuk ntuk",  # Javanese: both "got" and "allowed" - cues decide from context
    "boleh": "bole blh",
    "terima": "nerima menerima diterima tompo nompo ditompo nrima",
    "datang": "teko dtg rawuh hadir ladub budal berangkat nyampe tekan",
    # --- moving / voting elsewhere ---
    "pindah": "pindahan dipindah pindahe mindah boyongan pindahkan",
    "form": "formulir model blangko formnya",
    "kos": "kost ngekos ngekost indekos kosan kostan",
    "mahasiswa": "mahasiswi mhs kuliah kuliahan perantau merantau rantau",
    "opname": "opnam dirawat mondok melahirkan lahiran persalinan",
    "rawat": "",
    "inap": "",
    "sakit": "",
    "rumah": "omah hamur umah",
    "luar": "njobo",
    "kota": "kutho",
    "tugas": "dinas",
    "kerja": "kerjo bekerja nyambut",
    "domisili": "",
    # other towns (Malang itself is home, not here): "KTP Kediri", "kerja di Surabaya"
    "#kota": (
        "surabaya sidoarjo gresik mojokerto jombang kediri blitar tulungagung trenggalek pasuruan "
        "probolinggo lumajang jember banyuwangi bondowoso situbondo madiun magetan ngawi ponorogo "
        "pacitan nganjuk bojonegoro tuban lamongan madura bangkalan sampang pamekasan sumenep batu "
        "jakarta bandung jogja yogyakarta yogya semarang solo bali denpasar bekasi tangerang depok "
        "bogor medan makassar"
    ),
    "tahanan": "lapas napi",
    "tambahan": "",
    "lain": "liyo lainnya laine liane lian",
    "diwakili": "diwakilkan diwakilno diwakilke",
    "khusus": "",
    "tetap": "",
    "urus": "ngurus mengurus ngurusi diurus",
    # --- masa tenang ---
    "masa": "",
    "tenang": "tenange",
    "kampanye": "kampanyee kampaye kampanyenya kampanyekan berkampanye campaign kampanyene",
    "terakhir": "akhir pungkasan berakhir",
    "larang": "larangan dilarang melarang laranganne larangane",
    "baliho": "spanduk poster apk banner stiker atribut",
    "survei": "survey elektabilitas polling jajak",
    # --- money politics ---
    "uang": "duit dhuwit duwit ojir fulus money cuan doku sangu uange duite uangnya",
    "politik": "politic politics",
    "serangan": "serang",
    "fajar": "",
    "amplop": "amplopan ngamplop amplope",
    "sembako": "bingkisan parsel",
    "beras": "",
    "minyak": "",
    "bagi": "dibagi membagi mbagi dibagekno bagibagi bagiin",
    "dikasih": (
        "dikasi dikei diwenehi diwei ngekeki dikeki diberi ngasih dibei dikek ngekek diparingi "
        "nyangoni"
    ),
    "ditawari": "ditawarkan nawari menawarkan ditawani nawarin",
    "janji": "dijanjikan dijanjeni menjanjikan janjine dijanjiin",
    "ribu": "rb ewu rebu jt juta rbu",
    "tim": "",
    "sukses": "",
    "timses": "",
    "suap": "nyuap disuap sogok nyogok disogok sogokan suapan",
    "pidana": "dipidana penjara sanksi hukumnya hukum dosa",
    "transfer": "transferan ditransfer tf",
    # --- reporting ---
    "lapor": (
        "melapor laporan dilaporkan laporin laporno lapore pelaporan ngelaporno dilaporno laporkan "
        "melaporkan lapornya ngelapor"
    ),
    "bawaslu": "panwaslu panwas gakkumdu pengawas",
    "langgar": "pelanggaran melanggar dilanggar pelanggarane",
    "curang": "kecurangan nyurangi dicurangi curange",
    "adu": "ngadu pengaduan aduan mengadu diadukan",
    "intimidasi": "ancam diancam mengancam ancaman teror dipaksa paksa maksa diintimidasi",
    "hitam": "black",
    "ikut": "melu ikutan terlibat",
    "asn": "pns tni polri polisi aparat",
    "pejabat": "lurah camat kades perangkat sekda",
    "suruh": "nyuruh disuruh dikon dikongkon ngongkon mengarahkan diarahkan ngajak mengajak diajak",
    "netral": "netralitas",
    "hoaks": "hoax hoak fitnah",
    # --- results ---
    "hasil": "hasile hasilnya hasilne",
    "quick": "kuik",
    "count": "kount",
    "real": "",
    "hitung": "penghitungan perhitungan ngitung",
    "cepat": "",
    "menang": "pemenang unggul menange kemenangan juara menangnya",
    "rekap": "rekapitulasi sirekap",
    "umum": "diumumkan pengumuman umumkan mengumumkan diumumno diumumke diumumin",
    "resmi": "",
    "perolehan": "raihan",
    # --- how to vote ---
    "cara": "carane caranya tatacara prosedur langkah tutorial carae",
    "tata": "",
    "gimana": "bagaimana gmn gmna piye yokopo yaopo yopo pripun kepiye gimna gimane",
    "sah": "sahe valid",
    "suratsuara": "",
    "surat": "",
    "warna": "warnane warnanya werna",
    "paku": "",
    "pakai": "pake nganggo menggunakan make nggawe",
    "tinta": "tintae mangsi",
    "celup": "dicelup dicelupkan nyelup celupkan",
    "jari": "driji jarine",
    "bilik": "bilike",
    "kotak": "",
    "gambar": "gambare",
    "dampingi": "didampingi pendamping mendampingi dampingan",
    "hp": "handphone ponsel",
    # --- help / greetings ---
    "halo": "hallo hai hi hello helo hey hay",
    "salam": "",
    "selamat": "slamat sugeng",
    "assalamualaikum": "asalamualaikum assalamualaikumwrwb askum assalamu ass",
    "makasih": "mksh makasi tq thanks thx trims suwun nuwun tengkyu maturnuwun matursuwun",
    "menu": "",
    "help": "bantuan tolong bantu tulung",
    "start": "",
    "bot": "",
    "tanya": "takon nanya bertanya tanyak takok",
    "permisi": "punten",
    "sam": "",
    "min": "admin mimin",
    "p": "",
    # --- partisan (NETRAL) ---
    "siapa": "sopo sapa sp spa sinten siapakah",
    "pilih": "milih dipilih pilihan pilihe pilihnya",
    "bagus": "apik terbaik cocok layak apike baguse bagusan apikan",
    "mending": "mendingan",
    "rekomendasi": "rekomen saran usul rekomendasine",
    "enak": "enake enaknya",
    "menurut": "menurutmu menurutnya jarene pendapat",
    "program": "programe programnya visi misi",
    "#n": "1 2 3 01 02 03 siji telu satu dua tiga",
    # --- walikan / Javanese particles that only need to be understood ---
    "yok": "yo' ya'",
    "apa": "opo apakah ap pa apaan opoo",
}

# tokens that are understood but carry no intent (they count as "explained" for the gate)
FUNCTION_WORDS: frozenset[str] = frozenset(
    """
    saya aku ayas kula gue gw aq q kamu umak awakmu sampeyan panjenengan kowe anda kita kami
    awak bapak pak ibu bu mas mbak mba cak ning bro gan kak om bang rek arek mbah nenek kakek
    orang wong warga tonggo tetangga keluarga anak istri suami adik adek kakak
    ini itu iki iku kuwi niki niku nika yang sing ingkang yg di ke dari dr nde ndek nang neng
    ing nak dengan karo kaliyan sama ama sm dan lan atau ato utawa tapi tp tapine padahal kalau
    kalo klo lek nek misal umpama seandainya jika apabila bila karena soale soalnya mergo krn
    tentang soal masalah perihal hal semua kabeh buat untuk gawe nggo kanggo
    aja ae wae saja bisa iso isa biso saget bs bisakah bolehkah mau arep pengen ingin kudu harus
    wajib perlu butuh masih sik isih tetep juga uga pisan sudah sudahkah udah udh sdh wes wis
    uwes dah lagi maneh terus trus baru kan lha la nah wah waduh aduh lo lho loh nggih iya iyo
    oyi ok okay y ya yo sih se seh ta to tah kah dong deh nih tuh kok jadi dadi jangan ojo
    banyak akeh kenapa apao ngene ngono gini gitu begini begitu benar bener betul tak e ne
    ku mu nya el
    pas saat waktu wayah ketika nanti mengko engko sok tadi wingi kemarin kemaren
    sekarang saiki skrg dulu sebelum sesudah setelah habis bar mari bengi wengi sore malam ulang
    mohon minta njaluk nyuwun info informasi ngapunten maaf sorry matur wr wb warahmatullahi
    wabarakatuh punya nduwe duwe
    rt rw kelurahan kecamatan malang ngalam jatim jawa timur tahun gang sebelah pemerintah pemkot
    kentongan elektronik tahu tau ngerti weruh
    """.split()
)

# everyday words that are NOT about the election: recognised (so never fuzzy-matched into a cue:
# "sampah" is one letter from "sampai") but they count as not understood, so a generic cue next
# to them ("jam berapa pasar buka", "lapor sampah numpuk") does not make the message on-topic
OFFTOPIC: frozenset[str] = frozenset(
    """
    sampah pasar harga cabe bensin lampu jalan listrik air pdam banjir hujan cuaca arisan
    pengajian posyandu sekolah gaji gajian bansos blt kucing anjing wifi internet loker lowongan
    arema bola motor mobil parkir maling kebakaran dukcapil akta paspor sim pajak bpjs vaksin
    imunisasi kantor toko warung makan jajan resep iuran sumbangan bakti ronda siskamling
    tahlilan nikahan kawinan hajatan selamatan takziah layat rapat ultah syukuran
    """.split()
)

# particles dropped before multi-word merges and adjacency cues ("tps e nang endi" = "tps mana")
FILLERS: frozenset[str] = frozenset(
    "e ne ku mu nya se seh ta to tah kah sih ya yo ae wae dong deh lho loh lo nih tuh rek sam "
    "kok lha la kan iku iki itu ini sing yang yg ndek nang neng di ke ning ing".split()
)

# multi-word terms -> one canonical token (applied longest first, after VARIANTS and FILLERS)
MERGES: dict[tuple[str, ...], str] = {
    ("daftar", "pemilih", "khusus"): "dpk",
    ("pemilih", "khusus"): "dpk",
    ("daftar", "pemilih", "tambahan"): "dptb",
    ("pemilih", "tambahan"): "dptb",
    ("daftar", "pemilih", "tetap"): "dpt",
    ("masa", "tenang"): "masatenang",
    ("mas", "tenang"): "masatenang",  # "mas" is also a typo of "masa" here
    ("minggu", "tenang"): "masatenang",
    ("hari", "tenang"): "masatenang",
    ("serangan", "fajar"): "seranganfajar",
    ("politik", "uang"): "politikuang",
    ("uang", "politik"): "politikuang",  # "money politic"
    ("quick", "count"): "quickcount",
    ("real", "count"): "quickcount",
    ("hitung", "cepat"): "quickcount",
    ("surat", "suara"): "suratsuara",
    ("tata", "cara"): "cara",
    ("kampanye", "hitam"): "kampanyehitam",
    ("hitam", "kampanye"): "kampanyehitam",  # "black campaign"
    ("surat", "keterangan"): "suket",
    ("kartu", "keluarga"): "kk",
    ("ktp", "digital"): "ikd",
    ("hari", "h"): "harih",
    ("form", "a"): "forma",
    ("c", "6"): "c6",
    ("c", "pemberitahuan"): "c6",
    ("surat", "pemberitahuan"): "c6",
    ("c", "pemberitahuan", "kwk"): "c6",
    ("wali", "kota"): "walikota",
    ("tim", "sukses"): "timses",
    ("rumah", "sakit"): "rumahsakit",
    ("rawat", "inap"): "opname",
    ("luar", "kota"): "luarkota",
    ("yok", "apa"): "gimana",
    ("ya", "apa"): "gimana",
    ("terima", "kasih"): "makasih",
    ("matur", "makasih"): "makasih",  # "matur suwun" ("suwun" is already "makasih")
    ("selamat", "pagi"): "salam",
    ("selamat", "siang"): "salam",
    ("selamat", "sore"): "salam",
    ("selamat", "malam"): "salam",
    ("bagi", "bagi"): "bagi",
    ("minyak", "goreng"): "sembako",
}

# a message with one of these is about the election, so generic (~) cues may decide it
CONTEXT: frozenset[str] = frozenset(
    """
    coblos pilkada tps kpu kpps pemilih memilih pemungutan suara calon gubernur walikota dpt dptb
    dpk suratsuara masatenang bawaslu kampanye harih c6 timses
    """.split()
)

# Intent -> ((cue, weight), ...). "a b": adjacent tokens; "a+b": all present anywhere;
# leading "~": generic cue that needs election context (see module docstring, step 5).
# Rough scale: 1 = hint, 2 = typical, 3 = decisive, 4-5 = overrides anything else in the message.
CUES: dict[Intent, tuple[tuple[str, float], ...]] = {
    Intent.KAPAN: (
        ("~kapan", 1.5),
        ("~tanggal", 1.5),
        ("~tanggal berapa", 1.0),
        ("~hari apa", 2.0),
        ("~bulan apa", 2.0),
        ("~weekday", 1.0),
        ("~libur", 2.0),
        ("harih", 1.0),
        ("27 november", 2.0),
        ("~kapan+coblos", 0.5),  # "kapan" in the same message as the vote itself
        ("~kapan+pilkada", 0.5),
        ("~besok+coblos", 1.5),  # "sesuk iku nyoblos ta?" = is it tomorrow?
    ),
    Intent.JAM: (
        ("~jam", 2.0),
        ("~jam berapa", 1.5),
        ("~buka", 1.5),
        ("~tutup", 1.5),
        ("~mulai", 1.0),
        ("~sampai jam", 1.0),
        ("~pagi", 0.5),
        ("~siang", 0.5),
        ("~telat", 1.5),
        ("~layani", 1.5),
        ("~setengah", 0.5),
    ),
    Intent.TPS: (
        ("tps+mana", 3.0),
        ("~coblos+mana", 2.5),
        ("tps+lokasi", 3.0),
        ("~lokasi", 1.0),
        ("dpt", 2.0),
        ("cek+dpt", 1.5),
        ("cek+tps", 3.0),
        ("~cara+tps", 2.0),
        ("cekdptonline", 4.0),
        ("~terdaftar", 2.0),
        ("nomor+tps", 2.5),
        ("tps berapa", 2.5),
        ("~nik", 1.0),
    ),
    Intent.SYARAT: (
        ("~bawa", 2.5),
        ("syarat", 3.0),
        ("~ktp", 1.5),
        ("suket", 2.5),
        ("~kk", 1.0),
        ("ikd", 2.5),
        ("~foto ktp", 2.0),
        ("~fotokopi", 1.5),
        ("~dokumen", 2.0),
        ("~identitas", 2.0),
        ("~ketinggalan", 1.0),
        ("~ktp+ketinggalan", 1.5),  # left the KTP somewhere: what else counts as ID
        ("~ktp+hilang", 1.0),
    ),
    Intent.UNDANGAN: (
        ("undangan", 3.5),
        ("c6", 4.0),
        ("pemberitahuan", 2.5),
        ("kwk", 2.0),
        # lost / not received / damaged: extra weight so it beats "jam"/"bawa" in the same message
        ("undangan+hilang", 1.0),
        ("undangan+belum", 1.0),
        ("undangan+gak", 1.0),
        ("undangan+rusak", 1.0),
        ("c6+belum", 1.0),
        ("c6+hilang", 1.0),
    ),
    Intent.DPK: (
        ("dpk", 5.0),
        # negation right before a registration word: "gak terdaftar", "belum kedaftar"
        ("gak terdaftar", 5.0),
        ("belum terdaftar", 5.0),
        ("gak daftar", 3.0),
        # "nama gak ada", "gak masuk dpt", "gak muncul pas cek dpt" (needs nama/dpt/nik around)
        ("nama+gak ada", 4.5),
        ("dpt+gak ada", 4.5),
        ("dpt+gak masuk", 4.5),
        ("dpt+belum masuk", 4.5),
        ("dpt+gak muncul", 4.5),
        ("nama+gak muncul", 4.5),
        ("nik+gak muncul", 4.5),
        ("nama+gak masuk", 4.5),
    ),
    Intent.PINDAH: (
        ("pindah", 3.5),
        ("dptb", 5.0),
        ("forma", 4.0),
        ("~kos", 2.5),
        ("~mahasiswa", 2.0),
        ("~opname", 3.0),
        ("~rumahsakit", 2.5),
        ("~luarkota", 2.5),
        ("~tugas", 1.5),
        ("~kerja", 1.0),
        ("domisili", 2.5),
        ("~tahanan", 2.0),
        ("~ktp+luarkota", 1.0),
        ("tps lain", 3.0),  # "nyoblos di TPS lain"
        ("~coblos+lain", 1.0),
        ("~sakit", 1.5),
        ("~ktp #kota", 2.0),  # "KTP Blitar": registered elsewhere
        ("~#kota", 1.0),
    ),
    Intent.MASA_TENANG: (
        ("masatenang", 5.0),
        ("~tenang", 2.5),
        ("kampanye", 1.0),
        ("boleh kampanye", 2.0),
        ("oleh kampanye", 2.0),
        ("kampanye terakhir", 3.0),
        ("terakhir kampanye", 3.0),
        ("~larang", 1.5),
        ("~gak oleh", 1.0),
        ("~baliho", 1.5),
        ("~survei", 2.0),
    ),
    Intent.POLITIK_UANG: (
        ("politikuang", 6.0),
        ("seranganfajar", 6.0),
        ("~uang", 2.5),
        ("amplop", 3.0),
        ("sembako", 3.0),
        ("~beras", 2.0),
        ("~bagi", 1.0),
        ("bagi+uang", 1.5),  # handing out money is never innocent here
        ("~dikasih", 1.0),
        ("~ditawari", 1.5),
        ("~janji", 1.5),
        ("~ribu", 1.5),
        ("timses", 1.0),
        ("suap", 4.0),
        ("~transfer", 1.0),
        ("~pidana+uang", 1.0),
    ),
    Intent.LAPOR: (
        ("~lapor", 2.0),
        ("bawaslu", 4.0),
        ("langgar", 3.0),
        ("curang", 3.0),
        ("~adu", 2.0),
        ("intimidasi", 3.0),
        ("kampanyehitam", 3.0),
        ("ikut+kampanye", 2.0),
        ("asn", 1.5),
        ("pejabat", 1.0),
        ("~suruh+pilih", 2.5),
        ("~netral", 2.0),
        ("~hoaks", 2.0),
    ),
    Intent.HASIL: (
        ("hasil", 3.0),
        ("quickcount", 4.0),
        ("~quick", 2.0),
        ("~menang", 3.0),
        ("rekap", 3.0),
        ("~umum", 1.5),
        ("~perolehan", 2.5),
        ("~resmi", 0.5),
    ),
    Intent.CARA: (
        ("cara+coblos", 3.0),
        ("~gimana+coblos", 1.0),
        ("suratsuara", 3.0),
        ("~sah", 2.5),
        ("~warna", 1.5),
        ("paku", 2.5),
        ("tinta", 3.0),
        ("~celup", 2.5),
        ("~jari", 1.0),
        ("bilik", 3.0),
        ("~kotak", 1.0),
        ("~gambar", 1.0),
        ("~coblos pakai", 2.0),
        ("~dampingi", 2.0),
        ("~diwakili", 2.0),
        ("~hp", 1.0),
    ),
    Intent.BANTUAN: (
        ("~halo", 1.5),
        ("~salam", 1.5),
        ("~assalamualaikum", 1.5),
        ("~makasih", 2.0),
        ("~menu", 2.0),
        ("~help", 1.5),
        ("~start", 2.0),
        ("~bot", 1.0),
        ("~tanya", 1.0),
        ("~permisi", 1.0),
        ("~sam", 1.0),
        ("~min", 1.0),
        ("~p", 1.0),
        ("~bisa apa", 1.0),
    ),
    Intent.NETRAL: (
        ("~pilih+siapa", 3.0),
        ("~coblos+siapa", 3.0),
        ("~siapa+bagus", 3.0),
        ("~calon+bagus", 3.0),
        ("~pilih+mana", 2.5),
        ("~pilih+bagus", 2.5),
        ("~mending", 1.5),
        ("~rekomendasi", 2.0),
        ("~rekomendasi+calon", 1.0),
        ("~pilih #n", 3.0),
        ("~coblos nomor", 2.0),
        ("~nomor #n+bagus", 3.0),
        ("~bagus", 1.0),
        ("~enak+siapa", 1.0),
        ("~menurut", 1.0),
        ("~program", 1.0),
    ),
}

# exact ties go to the earlier (more specific / safer) intent
PRIORITY: tuple[Intent, ...] = (
    Intent.DPK,
    Intent.UNDANGAN,
    Intent.POLITIK_UANG,
    Intent.NETRAL,
    Intent.PINDAH,
    Intent.LAPOR,
    Intent.MASA_TENANG,
    Intent.HASIL,
    Intent.SYARAT,
    Intent.CARA,
    Intent.TPS,
    Intent.JAM,
    Intent.KAPAN,
    Intent.BANTUAN,
)

# a greeting or "makasih" inside a real question does not make it a BANTUAN question
BANTUAN_YIELDS_TO = 1.5

# --------------------------------------------------------------------------------------------
# Compiled lexicon
# --------------------------------------------------------------------------------------------

_SUFFIXES = ("nya", "kah", "lah", "ne", "ku", "mu", "e")


@dataclass(frozen=True)
class _Cue:
    text: str
    intent: Intent
    weight: float
    generic: bool
    parts: tuple[tuple[str, ...], ...]  # each part: adjacent tokens
    needs: frozenset[str]


def _compile_cues() -> tuple[_Cue, ...]:
    out = []
    for intent, cues in CUES.items():
        for raw, weight in cues:
            generic = raw.startswith("~")
            text = raw.lstrip("~")
            parts = tuple(tuple(p.split()) for p in text.split("+"))
            needs = frozenset(t for p in parts for t in p)
            out.append(_Cue(text, intent, weight, generic, parts, needs))
    return tuple(out)


_CUES = _compile_cues()
_CANON: dict[str, str] = {}
for _canon, _variants in VARIANTS.items():
    _CANON.setdefault(_canon, _canon)
    for _v in _variants.split():
        _CANON.setdefault(_v, _canon)
_KNOWN: frozenset[str] = frozenset(_CANON) | FUNCTION_WORDS
_CUE_TOKENS: frozenset[str] = frozenset(t for c in _CUES for t in c.needs)
# fuzzy targets: known words of 4+ letters (see _fuzzy for how 4-letter ones are used)
_FUZZY_TARGETS: tuple[str, ...] = tuple(
    sorted(w for w in _KNOWN if len(w) >= 4 and w.isalpha() and w.isascii())
)
_FUZZY_BY_FIRST: dict[str, tuple[str, ...]] = {}
for _w in _FUZZY_TARGETS:
    _FUZZY_BY_FIRST[_w[0]] = (*_FUZZY_BY_FIRST.get(_w[0], ()), _w)

# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_REDUP = re.compile(r"([^\W\d_]{2,})2\b")  # "bagi2" -> "bagi bagi"
_COMMAND = re.compile(r"(/\w+)@\w+")
_APOSTROPHES = re.compile(r"['’`ʼ‘]")
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_REPEAT3 = re.compile(r"(.)\1{2,}")
_REPEAT2 = re.compile(r"(.)\1+")


def normalize(text: str) -> str:
    """Lower-case ASCII-ish words and numbers separated by single spaces; never raises."""
    if not isinstance(text, str) or not text:
        return ""
    text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2])[:MAX_CHARS].casefold()
    # strip accents: "kapán" -> "kapan" (keep the base letters of any script)
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    text = _COMMAND.sub(r"\1", text)  # "/start@kentongan_bot" -> "/start"
    text = _APOSTROPHES.sub("", text)  # "ngekek'i" -> "ngekeki", "ya'opo" -> "yaopo"
    text = _REDUP.sub(r"\1 \1", text)
    # everything that is not a letter or a digit (emoji, punctuation, symbols) becomes a space
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    text = _LETTER_DIGIT.sub(" ", text)
    text = _REPEAT3.sub(r"\1", text)  # "kapaaan" -> "kapan", "halooo" -> "halo"
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Canonical tokens of a message (after variants, suffixes, typos, fillers and merges)."""
    return _analyse(normalize(text))[0]


@lru_cache(maxsize=8192)
def _canonical(word: str) -> tuple[str, bool]:
    """(canonical form, understood?) for one normalised word."""
    if word in _CANON:
        return _CANON[word], True
    if word in FUNCTION_WORDS:
        return word, True
    if word in OFFTOPIC:
        return word, False
    if word.isdigit():
        return word, True
    # Javanese/Indonesian enclitics: undanganku, coblosane, hasile, tpsnya
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            if stem in _CANON:
                return _CANON[stem], True
            if stem in FUNCTION_WORDS:
                return stem, True
    squeezed = _REPEAT2.sub(r"\1", word)  # "maaf"-style doubles typed as "kapaan"
    if squeezed != word and squeezed in _CANON:
        return _CANON[squeezed], True
    if len(word) >= 4 and word.isascii() and word.isalpha():
        fuzzy = _fuzzy(word)
        if fuzzy is not None:
            return _CANON.get(fuzzy, fuzzy), True
    return word, False


def _fuzzy(word: str) -> str | None:
    """A known word one typo away (two for long words), or None.

    Short words are where fuzzy matching hurts ("ulang" is one edit from "uang", "pasar" from
    "pasang"), so: a 4-letter word may only be a swap of two letters of a 4-letter word ("jmaa"),
    and longer words only match known words of 5+ letters. Typos keep the first letter almost
    always; insisting on it avoids accidents and keeps the search small.
    """
    if len(word) == 4:
        for cand in _FUZZY_BY_FIRST.get(word[0], ()):
            if len(cand) == 4 and sorted(cand) == sorted(word) and OSA.distance(word, cand) == 1:
                return cand
        return None
    choices = _FUZZY_BY_FIRST.get(word[0])
    if not choices:
        return None
    max_dist = 1 if len(word) < 10 else 2
    best = process.extractOne(word, choices, scorer=OSA.distance, score_cutoff=max_dist)
    if best is None:
        return None
    return str(best[0])


def _analyse(norm: str) -> tuple[list[str], bool, int, bool]:
    """Canonical tokens without fillers, election context?, unexplained words, off-topic word?"""
    canon: list[str] = []
    understood: list[bool] = []
    for w in norm.split()[:MAX_TOKENS]:
        c, ok = _canonical(w)
        if c in FILLERS and c not in _CUE_TOKENS:
            continue
        canon.append(c)
        understood.append(ok)
    merged, unexplained = _merge(canon, understood)
    has_context = any(t in CONTEXT for t in merged)
    offtopic = any(t in OFFTOPIC for t in merged)
    return merged, has_context, unexplained, offtopic


_MERGE_MAX = max(len(k) for k in MERGES)


def _merge(seq: list[str], understood: list[bool]) -> tuple[list[str], int]:
    """Greedy longest-first multi-word merge; a word inside a merged term counts as understood."""
    out: list[str] = []
    unexplained = 0
    i = 0
    n = len(seq)
    while i < n:
        for size in range(min(_MERGE_MAX, n - i), 1, -1):
            merged = MERGES.get(tuple(seq[i : i + size]))
            if merged is not None:
                out.append(merged)
                i += size
                break
        else:
            out.append(seq[i])
            unexplained += not understood[i]
            i += 1
    return out, unexplained


def _has_phrase(seq: list[str], phrase: tuple[str, ...]) -> bool:
    if len(phrase) == 1:
        return phrase[0] in seq
    first, size = phrase[0], len(phrase)
    return any(
        seq[i] == first and tuple(seq[i : i + size]) == phrase for i in range(len(seq) - size + 1)
    )


# --------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------

_UNKNOWN = Match(Intent.UNKNOWN, 0.0, ())


def classify(text: str) -> Match:
    """Best intent for a resident's message; UNKNOWN when unsure. Never raises, O(len) capped."""
    norm = normalize(text)
    if not norm:
        return _UNKNOWN
    seq, has_context, unexplained, offtopic = _analyse(norm)
    present = set(seq)

    scores: dict[Intent, float] = {}
    matched: dict[Intent, list[str]] = {}
    specific: set[Intent] = set()
    for cue in _CUES:
        if not cue.needs <= present:
            continue
        if any(len(p) > 1 and not _has_phrase(seq, p) for p in cue.parts):
            continue
        scores[cue.intent] = scores.get(cue.intent, 0.0) + cue.weight
        matched.setdefault(cue.intent, []).append(cue.text)
        if not cue.generic:
            specific.add(cue.intent)
    if not scores:
        return _UNKNOWN

    # step 5: generic cues only count when the message is on-topic or fully understood
    # an everyday off-topic word ("undangan nikahan", "jam berapa pasar buka") without any
    # election word turns even specific cues into generic ones
    on_topic = has_context or (bool(specific) and not offtopic) or unexplained == 0
    if not on_topic:
        best = max(scores, key=lambda i: scores[i])
        return Match(Intent.UNKNOWN, 0.0, tuple(matched[best]))

    others = [i for i in scores if i is not Intent.BANTUAN]
    if Intent.BANTUAN in scores and any(scores[i] >= BANTUAN_YIELDS_TO for i in others):
        del scores[Intent.BANTUAN]

    ranked = sorted(scores, key=lambda i: (-scores[i], PRIORITY.index(i)))
    top = ranked[0]
    s1 = scores[top]
    s2 = scores[ranked[1]] if len(ranked) > 1 else 0.0
    confidence = _confidence(s1, s2)
    if confidence < THRESHOLD:
        return Match(Intent.UNKNOWN, round(confidence, 3), tuple(matched[top]))
    return Match(top, round(confidence, 3), tuple(matched[top]))


def _confidence(s1: float, s2: float) -> float:
    """Strength of the winning evidence times how clearly it beats the runner-up, in 0..1."""
    strength = 1.0 - 2.0 ** (-s1 / 1.5)  # 1.5 -> 0.5, 3 -> 0.75, 4.5 -> 0.875
    margin = (s1 - s2) / s1
    return strength * (0.5 + 0.5 * margin)


def explain(text: str) -> dict[str, object]:
    """Debug view: canonical tokens, context, per-intent scores (for the REPL and test output)."""
    norm = normalize(text)
    seq, has_context, unexplained, offtopic = _analyse(norm)
    present = set(seq)
    per: dict[str, list[str]] = {}
    for cue in _CUES:
        if cue.needs <= present and all(len(p) == 1 or _has_phrase(seq, p) for p in cue.parts):
            per.setdefault(cue.intent.value, []).append(f"{cue.text}={cue.weight}")
    return {
        "normalized": norm,
        "tokens": seq,
        "context": has_context,
        "unexplained": unexplained,
        "offtopic": offtopic,
        "cues": per,
    }
