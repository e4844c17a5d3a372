"""The neutrality guard: a table of partisan sentences it must flag and neutral ones it must not."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from messages.neutrality import (
    TERMS_FILE,
    Category,
    TermsError,
    check_text,
    explain,
    is_neutral,
    load_terms,
    normalize,
)

C = Category

# (text, category, term) — the term is the finding's canonical name; for pair numbers the match.
FLAGGED: list[tuple[str, Category, str]] = [
    # candidate names and nicknames
    ("Salam hangat dari Pak Wahyu Hidayat untuk warga RW 05", C.CANDIDATE, "Wahyu Hidayat"),
    ("Foto Pj. Wali Kota Wahyu Hidayat meresmikan taman", C.CANDIDATE, "Wahyu Hidayat"),
    ("Mas Ali Muthohirin hadir di pengajian", C.CANDIDATE, "Ali Muthohirin"),
    ("ali mutohirin blusukan ke pasar", C.CANDIDATE, "Ali Muthohirin"),
    ("Sam HC siap membangun Malang", C.CANDIDATE, "Sam HC"),
    ("Heri Cahyono menyapa warga Sukun", C.CANDIDATE, "Heri Cahyono"),
    ("Mbak Ganis ke Pasar Besar hari ini", C.CANDIDATE, "Ganis"),
    ("Ganisa Pratiwi Rumpoko kunjungi posyandu", C.CANDIDATE, "Ganis"),
    ("Abah Anton pasti menang!", C.CANDIDATE, "Abah Anton"),
    ("Moch. Anton ngopi bareng warga", C.CANDIDATE, "Abah Anton"),
    ("Dimyati Ayatulloh datang ke masjid", C.CANDIDATE, "Dimyati"),
    ("Bu Luluk orasi di alun-alun", C.CANDIDATE, "Luluk"),
    ("Lukmanul Khakim bersama santri", C.CANDIDATE, "Lukmanul Khakim"),
    ("Bu Khofifah lanjutkan!", C.CANDIDATE, "Khofifah"),
    ("KHOFIFAH-EMIL untuk Jatim", C.CANDIDATE, "Khofifah"),
    ("Mas Emil Dardak di Malang", C.CANDIDATE, "Emil Dardak"),
    ("Bu Risma blusukan lagi", C.CANDIDATE, "Risma"),
    ("Tri Rismaharini dan Gus Hans", C.CANDIDATE, "Risma"),
    ("Gus Hans ngaji bareng", C.CANDIDATE, "Gus Hans"),
    ("<b>Kho</b>fifah", C.CANDIDATE, "Khofifah"),  # split by a tag
    ("Kh\u200bofifah", C.CANDIDATE, "Khofifah"),  # zero-width space
    ("Ｋｈｏｆｉｆａｈ", C.CANDIDATE, "Khofifah"),  # full-width letters (NFKC)
    # pair acronyms
    ("Dukung WALI untuk Malang!", C.CANDIDATE, "WALI"),
    ("Wa-Li menyapa warga", C.CANDIDATE, "WALI"),
    ("Bersama ABADI kita bisa", C.CANDIDATE, "ABADI"),
    ("LUMAN untuk Jawa Timur", C.CANDIDATE, "LUMAN"),
    ("Pasangan HC-Ganis hadir", C.CANDIDATE, "Sam HC"),
    ("WAHID menang satu putaran", C.CANDIDATE, "Wahid"),
    # jargon
    ("Malang Berkelas, mari wujudkan!", C.SLOGAN, "Malang Berkelas"),
    ("Mbois Ilakes, Sam!", C.SLOGAN, "Mbois Ilakes"),
    ("Jatim RESIK bersama kita", C.SLOGAN, "Jatim RESIK"),
    ("Jawa Timur resik!", C.SLOGAN, "Jatim RESIK"),
    # parties
    ("Rapat kader PKB malam ini", C.PARTY, "PKB"),
    ("Posko Gerindra buka di RW 3", C.PARTY, "Gerindra"),
    ("Ger1ndra menang", C.PARTY, "Gerindra"),
    ("Bendera PDI-P dipasang", C.PARTY, "PDI Perjuangan"),
    ("P D I P jaya", C.PARTY, "PDI Perjuangan"),
    ("PDI Perjuangan solid", C.PARTY, "PDI Perjuangan"),
    ("Golkar bagi sembako", C.PARTY, "Golkar"),
    ("Relawan NasDem", C.PARTY, "NasDem"),
    ("Partai Buruh turun ke jalan", C.PARTY, "Partai Buruh"),
    ("Partai Gelora mengundang", C.PARTY, "Gelora"),
    ("PKS peduli warga", C.PARTY, "PKS"),
    ("Kader PKN hadir", C.PARTY, "PKN"),
    ("Hanura untuk rakyat", C.PARTY, "Hanura"),
    ("Partai Garuda mendukung", C.PARTY, "Garuda"),
    ("PAN mendukung paslon ini", C.PARTY, "PAN"),
    ("Partai Bulan Bintang ikut", C.PARTY, "PBB"),
    ("Partai Demokrat bergerak", C.PARTY, "Demokrat"),
    ("PSI hadir untuk anak muda", C.PARTY, "PSI"),
    ("Perindo peduli UMKM", C.PARTY, "Perindo"),
    ("Kader PPP berkumpul", C.PARTY, "PPP"),
    ("Partai Ummat ikut mendukung", C.PARTY, "Partai Ummat"),
    ("Partai Prima juga mendukung", C.PARTY, "PRIMA"),
    ('Cek <a href="https://pdip.id">tautan ini</a>', C.PARTY, "PDI Perjuangan"),
    # coalition
    ("KIM Plus solid mendukung", C.COALITION, "KIM Plus"),
    ("Koalisi Indonesia Maju bergerak", C.COALITION, "KIM Plus"),
    # pair numbers in a voting call
    ("Ayo coblos 1!", C.PAIR_NUMBER, "coblos 1"),
    ("Jangan lupa coblos no. 2 ya", C.PAIR_NUMBER, "coblos no 2"),
    ("Pilih nomor tiga untuk Malang", C.PAIR_NUMBER, "pilih nomor tiga"),
    ("Paslon nomor urut 3 paling pas", C.PAIR_NUMBER, "paslon nomor urut 3"),
    ("Nomor urut 3 paling pas", C.PAIR_NUMBER, "nomor urut 3"),
    ("Dukung KIM+ di Pilgub", C.COALITION, "KIM Plus"),
    ("Salam tiga jari!", C.PAIR_NUMBER, "salam tiga jari"),
    ("salam 2 jari, bro", C.PAIR_NUMBER, "salam 2 jari"),
    ("Pilih 01, lanjutkan!", C.PAIR_NUMBER, "pilih 01"),
    ("Dukung 02 sampai menang", C.PAIR_NUMBER, "dukung 02"),
    ("#03 pasti menang", C.PAIR_NUMBER, "#03"),
    ("pilih nomor 2 aja ya?", C.PAIR_NUMBER, "pilih nomor 2"),
    ("paslon nomor 1 bagus gak?", C.PAIR_NUMBER, "paslon nomor 1"),
    ("menurutmu pilih 3 opo 1", C.PAIR_NUMBER, "pilih 3"),
    ("Coblosen nomer siji!", C.PAIR_NUMBER, "coblosen nomer siji"),
    ("Menangkan paslon nomor 2", C.PAIR_NUMBER, "menangkan paslon nomor 2"),
    ("<b>COBLOS</b> No.1", C.PAIR_NUMBER, "coblos no 1"),
    # allusions in a voting call, links and handles outside the allowlist
    ("Pilih yang berkumis!", C.ALLUSION, "berkumis"),
    ("Dukung petahana", C.ALLUSION, "petahana"),
    ("Banteng moncong putih", C.ALLUSION, "banteng moncong putih"),
    ("Info di https://wahyuali.id", C.LINK, "wahyuali.id"),
    ("Follow @relawan.malang", C.LINK, "@relawan.malang"),
    # what got through before (issue 10)
    ("Ayo dukung K h o f i f a h", C.CANDIDATE, "Khofifah"),
    ("Kho-fi-fah pasti menang", C.CANDIDATE, "Khofifah"),
    ("Kader P.K.S. Klojen", C.PARTY, "PKS"),
    ("Dukung \u041ahofifah", C.CANDIDATE, "Khofifah"),  # Cyrillic Ka
    ("\u03a1\u039a\u0392 menang", C.PARTY, "PKB"),  # Greek Rho, Kappa, Beta
    ("Coblos \u2162!", C.PAIR_NUMBER, "coblos iii"),  # Roman numeral three
    ("Pilih nomor \u0662", C.PAIR_NUMBER, "pilih nomor 2"),  # Arabic-Indic two
    ("Ayo coblos 3\ufe0f\u20e3", C.PAIR_NUMBER, "coblos 3"),  # keycap
    ("Dukung \u2460", C.PAIR_NUMBER, "dukung 1"),  # circled one
    ("Besok jangan lupa\ncoblos\n2", C.PAIR_NUMBER, "coblos 2"),
    ("Coblos ae sing nomer telu, rek", C.PAIR_NUMBER, "coblos ae sing nomer telu"),
    ("Pilihen nomer loro!", C.PAIR_NUMBER, "pilihen nomer loro"),
    ("01 menang satu putaran!", C.PAIR_NUMBER, "01 menang"),
    ("malang berkelas, mbois pol", C.SLOGAN, "Malang Berkelas"),
    ("ayo coblos wali!", C.CANDIDATE, "WALI"),
    ("#AbahAntonDimyati", C.CANDIDATE, "Abah Anton"),
    ("#samhcganis", C.CANDIDATE, "Sam HC"),
    ("R\u200di\u200bs\u2060ma", C.CANDIDATE, "Risma"),
]

CLEAN: list[str] = [
    "TPS 12 buka pukul 07.00 WIB.",
    "Warga RT 3 RW 5 diharap hadir di TPS 7.",
    "Warga RT 01 RW 05 Kelurahan Sukun",
    "Cek nomor DPT Anda di cekdptonline.kpu.go.id.",
    "Pemungutan suara Rabu, 27 November 2024.",
    "Pemberi dan penerima dipidana (UU 10/2016 Pasal 187A): denda Rp200 juta–Rp1 miliar.",
    "Pemilihan Wali Kota dan Wakil Wali Kota Malang",
    "PEMILIHAN WALI KOTA MALANG",
    "Pilgub Jatim dan Pilwali Kota Malang",
    "Rapat wali murid SDN Sawojajar 1",
    "Pilkada adalah pesta demokrasi; mari jaga suasana yang demokratis.",
    "Salam Satu Jiwa! Bersama Mba Sawa dan Sam Suma.",
    "Pilkada Kota Malang: Integrasi dan Harmoni.",
    "Terima kasih kepada panitia dan KPPS.",
    "Sam, TPS-ku nang endi?",
    "Matur nuwun, Sam.",
    "Bayar PBB-P2 sebelum jatuh tempo.",
    "Sidang Umum PBB di New York.",
    "Surat edaran Kementerian PAN-RB tentang netralitas ASN.",
    "Ketahanan pangan dan panen raya.",
    "Pelayanan prima di kelurahan.",
    "Gelora semangat warga Malang.",
    "Garuda Pancasila di balai RW.",
    "Persahabatan abadi warga kampung.",
    "Ikuti pelatihan KIM (Kelompok Informasi Masyarakat) kelurahan.",
    "Ujian PKn kelas 6 hari Senin.",
    "Coblos satu kali pada satu pasangan calon.",
    "Pilih satu pasangan calon di setiap surat suara.",
    "Anda menerima 2 surat suara.",
    "Coblos di TPS 3, bawa KTP-el.",
    "Coblos nomor berapa yang bagus?",
    "Cara mencoblos\n1. Serahkan undangan dan KTP-el.",
    "Rekapitulasi di PPK, PPS, dan KPPS.",
    "Pengurus RT/RW tidak boleh menjadi anggota partai politik.",
    "Hari Pahlawan 10 November, pukul 08.00.",
    "Nomor urut antrean di puskesmas.",
    "Ali dan Wahyu ketua karang taruna.",
    "Anton, bendahara RT 2, mohon hadir.",
    "Emil, tolong bawa kursi ke balai RW.",
    "Mohon tidak mengirim foto, nama, nomor urut, atau atribut pasangan calon.",
    "Tunggu hasil resmi KPU pada Minggu, 15 Desember 2024.",
    "Gus Dur (Abdurrahman Wahid) adalah presiden ke-4.",
    "Pejabat ASN dilarang menguntungkan salah satu pasangan calon.",
    # wrongly refused before (issue 10)
    "Ambil nomor antrean 2 di loket kelurahan.",
    "Pemkot punya 2 program untuk lansia.",
    "Dukung 3 program kebersihan kampung.",
    "Warga RT 02 RW 07 mencoblos di TPS 14.",
    "Kerja bakti di Jalan KH Dimyati RT 3.",
    "Warung Bu Luluk buka untuk konsumsi KPPS.",
    "Bayar PKB kendaraan Anda di Samsat.",
    "KENANGAN ABADI KERJA BAKTI RW 5",
    "Kerja bakti di bawah pohon beringin balai RW.",
    "Cek DPT di https://cekdptonline.kpu.go.id.",
    "Tata cara mencoblos:\n1. Tunjukkan undangan.\n2. Ambil surat suara.",
]


def test_tables_are_large_enough() -> None:
    assert len(FLAGGED) >= 40
    assert len(CLEAN) >= 30
    # masa tenang's own rules are tested in tests/messages/test_quiet_period.py
    assert {category for _, category, _ in FLAGGED} == set(Category) - {Category.QUIET}


@pytest.mark.parametrize(("text", "category", "term"), FLAGGED)
def test_flags_partisan_text(text: str, category: Category, term: str) -> None:
    findings = check_text(text)
    assert (term, category) in [(f.term, f.category) for f in findings], findings


@pytest.mark.parametrize("text", CLEAN)
def test_does_not_flag_neutral_text(text: str) -> None:
    assert check_text(text) == []
    assert is_neutral(text)


def test_reasons_are_clear_bahasa_indonesia() -> None:
    reasons = {f.term: f.reason for f in check_text("Bu Khofifah, PKB, KIM Plus, Malang Berkelas")}
    assert reasons == {
        "Khofifah": "Menyebut nama calon (Khofifah).",
        "PKB": "Menyebut partai politik (PKB).",
        "KIM Plus": "Menyebut koalisi partai pengusung (KIM Plus).",
        "Malang Berkelas": "Memakai jargon kampanye pasangan calon (Malang Berkelas).",
    }
    (pair,) = check_text("Ayo coblos no. 2")
    assert pair.reason == "Mengajak memilih nomor urut pasangan calon (\u201ccoblos no 2\u201d)."
    (nick,) = check_text("Gus Hans")
    assert nick.reason == "Menyebut julukan calon (Gus Hans)."
    (acronym,) = check_text("ABADI")
    assert acronym.reason == "Menyebut sebutan pasangan calon (ABADI)."
    assert Category.PARTY.label == "partai politik"


def test_one_finding_per_term() -> None:
    findings = check_text("Khofifah, Khofifah, Bu Khofifah dan Khofifah-Emil")
    assert [f.term for f in findings] == ["Khofifah"]


def test_explain_for_an_official() -> None:
    text = explain(check_text("Dukung Golkar"))
    assert text.startswith("Teks ini belum bisa disiarkan karena tidak netral:")
    assert "• Menyebut partai politik (Golkar)." in text
    assert explain([]) == "Teks ini netral."


def test_normalize() -> None:
    assert normalize("<b>PDI-P</b> &amp; Moch. Anton!") == "pdi p moch anton"


def test_every_shipped_term_matches_its_own_patterns() -> None:
    raw = tomllib.loads(TERMS_FILE.read_text(encoding="utf-8"))
    for entry in raw["term"]:
        for phrase in [*entry.get("patterns", []), *entry.get("cased", [])]:
            # an allusion counts only in a voting call
            text = f"Coblos {phrase}" if entry.get("needs_call") else phrase
            terms = [f.term for f in check_text(text)]
            assert entry["term"] in terms, (phrase, terms)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[term]]\nterm = "X"\ncategory = "warna"\npatterns = ["x"]\n', "category 'warna'"),
        ('[[term]]\nterm = "X"\ncategory = "party"\n', "butuh 'patterns' atau 'cased'"),
        ('[[term]]\nterm = "X"\ncategory = "party"\npattern = ["x"]\n', "kolom tidak dikenal"),
        ('[[term]]\nterm = "X"\ncategory = "candidate"\nkind = "x"\npatterns = ["x"]\n', "kind"),
        (
            '[[term]]\nterm = "X"\ncategory = "party"\npatterns = ["x"]\n' * 2,
            "muncul dua kali",
        ),
        ("[[term]]\nterm = \n", "terms.toml"),
    ],
)
def test_terms_file_is_validated(tmp_path: Path, content: str, message: str) -> None:
    file = tmp_path / "terms.toml"
    file.write_text(content, encoding="utf-8")
    with pytest.raises(TermsError, match=message):
        load_terms(file)


def test_custom_terms_file(tmp_path: Path) -> None:
    file = tmp_path / "terms.toml"
    file.write_text(
        '[[term]]\nterm = "Calon X"\ncategory = "candidate"\nkind = "name"\n'
        'patterns = ["Calon X"]\n'
    )
    terms = load_terms(file)
    assert [f.reason for f in check_text("Dukung calon x!", terms)] == [
        "Menyebut nama calon (Calon X)."
    ]
    assert check_text("coblos 2", terms) == []  # no [pair_number] section, no number rule
