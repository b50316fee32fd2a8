"""The Korean edition's words (issue 24, item 8): the course's chosen terms, never their rejected
variants; no particle after a number that can be wrong; checker messages wholly in Korean; and a
glossary in 가나다 order that gives, per term, the course's word beside tutorials-kr's, d2l-ko's and
the source post's own, without claiming the post uses a word it does not."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KO = ROOT / "notebooks" / "ko"
GLOSSARY = KO / "glossary.ipynb"
NOTEBOOKS = sorted(p for p in KO.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and p != GLOSSARY)
CATALOG = ROOT / "helpers" / "locale" / "ko.json"

#: rejected variant (a regular expression) -> the course's word. The glossary alone may cite the
#: rejected words, as other books' or the post's.
REJECTED = {
    r"에폭": "에포크",
    r"인구조사": "인구 조사 구역",  # also where a line break splits 인구조사 / 구역
    r"k USD": "천 달러",
    r"원본": "원문 (the source post) or 원래 (the original file)",
    r"노트북 ?0\d|0\d ?(번 )?노트북|강의 ?0\d|0\d( 번)? 강의|0\d번 강의": "0N강 (e.g. 02강; 02강의 is 02강 + 의)",
    r"학습 행": "학습 데이터의 행 (or 학습용 구역)",
    r"수업에서 쓰지 않은": "강좌에서 쓰지 않은 (the course; 수업 is a class on JupyterHub)",
    r"강의 (패키지|폴더|채점기)|강의의 (패키지|이슈 트래커)": "강좌 (the course; 강의 is one lesson)",
    r"원글": "원문 (the source post)",
}
#: Words the source post (../shared/source/, Korean) really uses for the course's concepts.
SOURCE_WORDS = {
    "레이어", "출력층", "손실 함수", "활성화 함수", "최적화", "가중치", "정규화", "데이터셋", "텐서",
    "다층 퍼셉트론", "평균 제곱 오차", "이진 교차 엔트로피", "이진 분류", "다중 분류", "선형 회귀",
    "확률 분포", "클래스", "학습", "모델", "정확도", "데이터 전처리", "학습 루프", "노드", "입력", "출력",
    "비선형성", "예측값", "실제값", "디버깅", "Softmax", "logit", "epoch", "shape", "MLP", "MSE", "BCE",
    "확률", "펼침", "CNN", "RNN", "시계열",  # "출력을 확률로 변환했다"; the comment "2D 이미지를 1D 벡터로 펼침"
}
PARTICLES = "이|가|은|는|을|를|과|와|으로|로|이다|였|였다"
# the final sound of a number's Korean reading: its last non-zero digit, or the power of ten of its zeros
DIGIT_FINAL = {"0": "ㅇ", "1": "ㄹ", "2": "", "3": "ㅁ", "4": "", "5": "", "6": "ㄱ", "7": "ㄹ", "8": "ㄹ",
               "9": ""}
ZEROS_FINAL = {1: "ㅂ", 2: "ㄱ", 3: "ㄴ", 4: "ㄴ"}  # 십, 백, 천, 만


def text(cell: dict) -> str:
    return "".join(cell["source"])


def korean_texts() -> list[tuple[str, str]]:
    """(where, text) for every cell of the Korean notebooks, every catalog message and README.ko.md."""
    found = []
    for path in NOTEBOOKS:
        for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            found.append((f"{path.relative_to(ROOT)} cell {i}", text(cell)))
    for english, korean in json.loads(CATALOG.read_text(encoding="utf-8")).items():
        found.append((f"ko.json {english[:40]!r}", korean))
    found.append(("README.ko.md", (ROOT / "README.ko.md").read_text(encoding="utf-8")))
    return found


def final_sound(number: str) -> str:
    digits = number.replace(",", "")
    if "." in digits:
        return DIGIT_FINAL[digits[-1]]
    stripped = digits.rstrip("0")
    if not stripped:
        return DIGIT_FINAL["0"]
    zeros = len(digits) - len(stripped)
    return ZEROS_FINAL.get(zeros, "ㄴ") if zeros else DIGIT_FINAL[stripped[-1]]


def particle_fits(final: str, particle: str) -> bool:
    if particle in ("으로",):
        return final not in ("", "ㄹ")
    if particle == "로":
        return final in ("", "ㄹ")
    if particle in ("이", "은", "을", "과", "이다"):
        return final != ""
    if particle in ("가", "는", "를", "와", "였", "였다"):
        return final == ""
    return True


def wrong_particles(source: str) -> list[str]:
    """Numbers written with a particle that does not fit how the number is read: 80로 (팔십으로)."""
    wrong = []
    for match in re.finditer(rf"(?<![\w.])(\d[\d,]*(?:\.\d+)?)({PARTICLES})(?![가-힣])", source):
        if not particle_fits(final_sound(match.group(1)), match.group(2)):
            wrong.append(match.group(0))
    return wrong


@pytest.mark.parametrize("pattern", list(REJECTED), ids=list(REJECTED.values()))
def test_the_course_uses_its_chosen_word(pattern):
    found = [where for where, source in korean_texts() if re.search(pattern, source)]
    assert found == [], f"write {REJECTED[pattern]!r}, not /{pattern}/, in: {found}"


def test_no_particle_follows_a_number_that_can_be_wrong():
    # a number the run fills in ({x:.1f}로) has no particle that fits every value: rephrase
    filled = [f"{where}: {m.group(0)}" for where, source in korean_texts()
              for m in re.finditer(rf"\}}({PARTICLES})(?![가-힣])", source)]
    fixed = [f"{where}: {w}" for where, source in korean_texts() for w in wrong_particles(source)]
    assert filled + fixed == []


def test_the_particle_rule_reads_numbers_as_korean_does():
    assert wrong_particles("80로 바꾸고, 112.3로, 2로, 10으로, 0.5로, 1,000으로, 3을, 2가") == ["80로", "112.3로"]


#: English a Korean message may keep: code, units, names of libraries and metrics.
ALLOWED_ENGLISH = {
    "PyTorch", "torch", "torchvision", "torchinfo", "MNIST", "RMSE", "MSE", "NLL", "ReLU", "CPU", "GPU", "CUDA",
    "MPS", "JupyterLab", "JupyterHub", "Colab", "pip", "SEED", "LSTAT", "MEDV", "B", "idx", "float32", "float64",
    "int64", "uint8", "NaN", "inf", "log", "exp", "max", "min", "sigmoid", "softmax", "logit", "Adam", "SGD",
    "OneCycleLR", "DataLoader", "TensorDataset", "Dataset", "CI", "URL", "Python", "NumPy", "pandas", "matplotlib",
    "GiB", "MiB", "ms", "s", "x", "y", "z", "p", "k", "N", "C", "e", "Hint", "argmax", "True", "False", "None",
    "SHA", "cpu", "mps",  # SHA-256; torch's device names, printed as torch spells them
}


def code_like(word: str) -> bool:
    return bool(re.search(r"[_.()\[\]0-9]", word)) or (word[:1].isupper() and any(c.isupper() for c in word[1:])
                                                     and any(c.islower() for c in word))


def test_checker_messages_are_wholly_korean():
    """English words in a Korean message are code (in backticks, or code-like: ``zero_grad``,
    ``nn.Linear``), a placeholder, or in ALLOWED_ENGLISH. "MISSES", "ABOVE", "Boston" are not."""
    english_left = []
    for english, korean in json.loads(CATALOG.read_text(encoding="utf-8")).items():
        plain = re.sub(r"`[^`]*`|\{[^}]*\}|'[^'\s]*'", " ", korean)
        for token in re.findall(r"[A-Za-z][A-Za-z0-9_.()\[\]]*", plain):
            if token not in ALLOWED_ENGLISH and not code_like(token) and token not in english.split("`")[1::2]:
                english_left.append(f"{token!r} in {korean[:60]!r}")
    assert english_left == []


def glossary_rows() -> tuple[list[str], list[list[str]]]:
    markdown = "\n".join(text(c) for c in json.loads(GLOSSARY.read_text(encoding="utf-8"))["cells"]
                         if c["cell_type"] == "markdown")
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    return header, rows


def test_the_korean_glossary_is_in_ganada_order_and_cites_the_post_truthfully():
    assert GLOSSARY.exists(), "notebooks/ko/glossary.ipynb: the Korean glossary"
    header, rows = glossary_rows()
    for column in ("이 강좌", "tutorials-kr", "d2l-ko", "원문"):
        assert any(column in h for h in header), f"a column for {column}: {header}"
    course = [row[0] for row in rows]
    assert len(course) >= 40 and course == sorted(course), "rows in 가나다 order of the course's word"
    source = header.index(next(h for h in header if "원문" in h))
    claimed = {row[source].strip("`") for row in rows} - {"", "—", "-"}
    assert sorted(claimed - SOURCE_WORDS) == [], "the post does not use these words"
    assert "레이어" in claimed, "the post says 레이어 where the course says 층"


def test_the_korean_glossary_covers_every_term_of_the_english_one():
    english = json.loads((ROOT / "notebooks" / "glossary.ipynb").read_text(encoding="utf-8"))
    lines = [line for cell in english["cells"] if cell["cell_type"] == "markdown"
             for line in text(cell).splitlines() if line.startswith("|")]
    terms = [line.strip("|").split("|")[0].strip() for line in lines[2:]]
    header, rows = glossary_rows()
    column = header.index("English")
    assert len(terms) >= 40 and sorted(set(terms) - {row[column] for row in rows}) == []
