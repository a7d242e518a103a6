"""The repository must carry none of the wording of licensed risk instruments (DASH).

The question texts are copyrighted; we ship only the structure (item ids, scoring) and our own
neutral questionnaire. This test keeps salted hashes of every six-word run of the licensed
texts, never the texts, and fails if any file in the repository contains one of those runs.
"""

import hashlib
import re
import subprocess
from pathlib import Path

SALT = "refuge-licensed-text-v1"
DROP = {"name", "of", "abuser"}  # the instrument's "(name of abuser)" placeholder varies
ROOT = Path(__file__).resolve().parents[2]
TEXT = {".py", ".html", ".json", ".md", ".txt", ".po", ".js", ".css", ".yaml", ".yml", ".toml"}
LICENSED = set(
    """
0279c2fd3f3ac04b 027ee09757952551 036ce4e3f4770e27 03a7e16890005e71 08e1d89b0155eae6 08f66e6c41300cfb 0b00b926492fd2ea 0c168196e59df9bd
0d317d2622510a80 0f00f5740d354606 1160b88ffd31b900 11a82155a39cb739 13555ac63b3468c3 165e8ffd55406fb3 18466fe6edd421f5 1989fb1836146272
19b9a2221651725b 1ba629e4eb2e4d80 1c8443fbb5aa0c82 1e7b0bfcc0b3a65b 1f5471a203b541ef 20d266969515eef7 24723a02b70affab 29307d026d2547ef
2a56778c5f296027 2b28d3dfb613b787 2b954fb15fce8699 2badd220d44f6f3c 2ffd7865c3f1a70d 3051c6f6724ec8f2 30ad95f8fd0cc289 31250ba2d082cef0
3441e3f3b107f804 365715118dd27b49 3824fdaddb5cd87d 38c0f83a73d22f3d 3a57805243bdc1f0 3bb412ff977f8df1 3fd7ded4a8b448e9 438385007a68191f
45baf96f6c457c39 4649830e067899a4 477f98db5033d0bd 4a652735121a5e52 4eba998037654319 4ef8617759033bce 4f1e085f47b37b61 505569ae898456db
51a26284f8fcc6ed 52cd40a6f978da89 54c3360193b23531 556eaad39a66decf 5680f9d1823e7c3d 577187ccbd68e4eb 5f4e51c723cd7347 60e82fd7bd10aad6
6246cb04367073e6 62688e3d961b1a34 63bd8ec4e4da4a9b 671db6f4e28e4b86 6771f96932e9778f 687bbf75326364d6 693bfaf6aba3362b 6bfe50b270966f3a
6c47da53dc8dc4a5 6e3837d351f279c0 6e6d5863e6351fbc 6ea0098668ed8ac8 718a9f25e0e93e1c 7221e66245b66fcb 73789e48afd1066c 7398528651e66895
742ea75fc7972f41 7679ba60dbffdcc8 780b63530af198f8 78296aeed40dcd48 79ceed7f03d3717b 7a736f28b054ad59 7d4d2b2fedb4c2d0 80dce4cf7c9adff2
81f92fd7cc588099 82d3316e21dda56f 84b6e8a58806dba2 85530c7f520db664 85cbe70a6d5234c2 8950fe44d2b80e4e 89d27081aeb01d7a 8b09a5bda73a5403
8b32a69c8d7d747e 8c095ba559ed21be 8e9b07bc69824dd1 8fb762466fd6423b 9519b8b9596b905c 95d7cb8c703712d8 9993e22a64b52df8 9a494cdd5a829d03
9a84418432b39192 9a9cbbc981125bce 9ab75e14f91b651f 9bb053bf56b2c2fd 9c231ecaae2da985 9d7b35af9b08dc6a 9dc1c594b26395b0 9f1a46eeab1de6a6
a1fd8be45a8762c0 a278229e9ea1b5e8 a41cb6ad6379ed88 a4832cfd8e170eb3 a572db65381b828c a5e00ec49400b9bc a65901ce0d62bbae a795ea6133a8ffe9
aa733b5f4bb48738 af44d43018d7b1fb b3221623452e6bcd b3eb5ee7edd194be b544575601c0d2ca b5f73dbeb2fc1b82 b84bfb2971edbcf0 bd573e553a9f596d
bd6a3c2bef6ddb04 bdeb96d924347790 bf207dc801d47bc5 c0e3878f9049cd8a c1517422deeb1e85 c21b9d6c25245eb7 c4b5d47379ca9570 c4d4289c2519d077
c69e679e513d4b0c c6c1fc46415b1c30 c95f2243d11b2cda ca09d7c4c0c74987 cccc28461e831601 ce3f1ac42b160f5a d0b90d2f42809bbb d144923023a732c6
d2ffdc6921b3203f d3bc34763d4e735f d60a4243c93c42d7 d7e439240442437f dc713b50afcd653d dccd20ede2f74bdd dd6a41c6d4dcdc45 ddd633e55af9e0a7
dde50944ea499ce5 e1119a96fd528c4d e12e3aa6fcfa6284 e19316e4b9d20ea5 e2d88bcbd36da942 e2e5b032e55d010f e37e95f42e907aac e39945f02f6a8733
e3adaedab7d2e64d e52c3b030285fabf e8455de30c48b2b7 e8da9ce140419093 e960ec1a721b4500 e9ab9e029395c516 e9bd60866a6af1ae ee34f93260494aab
ee4ca9e2256d13da efe5bb4b300b538b f1ac9e84e8321be6 f229eafb36a713cb f3a41407998c75ff f8281a2719e414c8 fb3b8905bb76e739 fd53ff47717df3be
ff558021618b7043
""".split()
)


def runs(text: str) -> set[str]:
    words = [w for w in re.findall(r"[a-z]+", text.lower()) if w not in DROP]
    return {
        hashlib.sha256((SALT + " ".join(words[i : i + 6])).encode()).hexdigest()[:16]
        for i in range(len(words) - 5)
    }


def repository_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [ROOT / p for p in out.splitlines() if Path(p).suffix in TEXT and (ROOT / p).is_file()]


def test_the_detector_finds_a_planted_run():
    planted = "the quick brown fox jumps over the lazy dog"
    assert runs(planted) & runs("x " + planted + " y")


def test_no_file_carries_licensed_instrument_wording():
    files = repository_files()
    assert len(files) > 20
    hits = [
        str(p.relative_to(ROOT))
        for p in files
        if p.name != Path(__file__).name
        and runs(p.read_text(encoding="utf-8", errors="ignore")) & LICENSED
    ]
    assert not hits, f"licensed instrument wording found in: {hits}"
