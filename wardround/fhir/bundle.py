"""A FHIR Bundle held in memory: its entries by reference, canonical hashes, and a cache of bundles by file."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

from wardround.errors import CaseError

#: Largest bundle file read, in bytes (a patient's export with years of history is a few MB).
MAX_BUNDLE_BYTES = 64 * 1024 * 1024


def canonical_sha256(obj: Any) -> str:
    """sha256 of the canonical JSON of ``obj`` (sorted keys, no spaces, UTF-8): whitespace-independent."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def resource_ref(resource: dict, full_url: str | None, position: int) -> str:
    """How a resource is cited: ``Type/id``, else its fullUrl, else ``Type#entry<position>``."""
    rtype = resource.get("resourceType", "Resource")
    rid = resource.get("id")
    if isinstance(rid, str) and rid:
        return f"{rtype}/{rid}"
    if full_url:
        return full_url
    return f"{rtype}#entry{position}"


class BundleIndex:
    """The entries of a bundle, looked up by their citation, their fullUrl or a ``Type/id`` reference."""

    def __init__(self, bundle: dict) -> None:
        self.bundle = bundle
        self.sha256 = canonical_sha256(bundle)
        self.entries: list[tuple[int, str, dict, str | None]] = []  # position, ref, resource, fullUrl
        self._by: dict[str, str] = {}
        self._resources: dict[str, dict] = {}
        self._hashes: dict[str, str] = {}
        entries = bundle.get("entry") or []
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
                continue
            res = entry["resource"]
            full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
            ref = resource_ref(res, full_url, i)
            if ref in self._resources:  # a second entry with the same citation: the first is kept
                continue
            self.entries.append((i, ref, res, full_url))
            self._resources[ref] = res
            for key in (ref, full_url):
                if key:
                    self._by.setdefault(key, ref)
            if isinstance(res.get("id"), str):
                self._by.setdefault(f"{res.get('resourceType')}/{res['id']}", ref)

    def key(self, reference: str | None) -> str | None:
        """The citation of the entry a reference points to (``urn:uuid:...``, ``Patient/1``, an absolute URL)."""
        if not reference:
            return None
        hit = self._by.get(reference)
        if hit is None and "/" in reference:
            parts = reference.rstrip("/").split("/")
            if len(parts) >= 4 and parts[-2] == "_history":  # Type/id/_history/version
                parts = parts[:-2]
            if len(parts) >= 2:
                hit = self._by.get(f"{parts[-2]}/{parts[-1]}")
        return hit

    def get(self, ref: str) -> dict | None:
        """The resource cited as ``ref`` (or reached by a reference), or ``None``."""
        key = self.key(ref)
        return self._resources.get(key) if key else None

    def resource_sha256(self, ref: str) -> str | None:
        """sha256 of the canonical JSON of the resource cited as ``ref``."""
        key = self.key(ref)
        if key is None:
            return None
        if key not in self._hashes:
            self._hashes[key] = canonical_sha256(self._resources[key])
        return self._hashes[key]


def read_json_file(path: Path) -> Any:
    """Parse a bundle file, with one-line errors naming the problem."""
    if not path.is_file():
        raise CaseError("path", f"FHIR bundle {str(path)!r} does not exist", "check the path")
    size = path.stat().st_size
    if size > MAX_BUNDLE_BYTES:
        raise CaseError("path", f"{path.name} is {size / 2**20:.1f} MB, over the {MAX_BUNDLE_BYTES // 2**20} MB "
                        "limit of a FHIR bundle", "export the patient's bundle for the period of interest")
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise CaseError("path", f"{path.name} is not UTF-8 text", "save the bundle as UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise CaseError("file", f"malformed JSON in {path.name} at line {exc.lineno}, column {exc.colno}: "
                        f"{exc.msg}", "fix the JSON syntax") from None
    except RecursionError:
        raise CaseError("file", f"{path.name} nests too deeply to be a FHIR bundle", "fix the JSON") from None


# -- bundles available to verification -----------------------------------------------------------------------

_BY_SHA: OrderedDict[str, BundleIndex] = OrderedDict()
_BY_FILE: dict[str, tuple[tuple[int, int], BundleIndex]] = {}
_KEEP = 8


def remember(index: BundleIndex) -> None:
    """Keep a bundle read in memory so that citations of its cases verify in this process (last 8 kept)."""
    _BY_SHA[index.sha256] = index
    _BY_SHA.move_to_end(index.sha256)
    while len(_BY_SHA) > _KEEP:
        _BY_SHA.popitem(last=False)


def register_bundle(bundle: dict) -> str:
    """Make an in-memory bundle available to citation checks (e.g. in a new process); returns its sha256."""
    index = BundleIndex(bundle)
    remember(index)
    return index.sha256


def bundle_for(path: str | None, sha256: str) -> tuple[BundleIndex | None, str]:
    """The bundle a case cites: re-read from its file when it has one (cached by mtime), else from memory.

    Returns the index (or ``None``) and, when ``None``, why the bundle is not available.
    """
    if path:
        p = Path(path)
        try:
            st = p.stat()
        except OSError:
            st = None
        if st is not None:
            stamp = (st.st_mtime_ns, st.st_size)
            cached = _BY_FILE.get(path)
            if cached is not None and cached[0] == stamp:
                return cached[1], ""
            try:
                data = read_json_file(p)
            except CaseError as exc:
                return None, f"the FHIR bundle {p.name} cannot be read ({exc})"
            if not isinstance(data, dict):
                return None, f"the FHIR bundle {p.name} is no longer a JSON object"
            index = BundleIndex(data)
            _BY_FILE[path] = (stamp, index)
            return index, ""
    index = _BY_SHA.get(sha256)
    if index is not None:
        return index, ""
    where = f"at {path!r}" if path else "in memory"
    return None, (f"the FHIR bundle (sha256 {sha256[:12]}...) is not available {where}; keep the bundle file, or "
                  "call wardround.fhir.register_bundle(bundle) before verifying")
