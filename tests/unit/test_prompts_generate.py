"""System prompts made with the real espeak-ng: phone-ready audio, stored with a manifest that spares a restart the
work and makes again exactly what changed; the synthesised tones."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from infolinia.voice.prompts import generate, tones
from infolinia.voice.prompts.audio import RATE
from infolinia.voice.prompts.catalog import SPEECH, SYSTEM_NAMES, TONES, VOICES
from infolinia.voice.prompts.system import load_or_generate, read_prompt_file, system_folder

SMALL = {
    "pl": {"goodbye": "Dziękujemy za telefon. Do usłyszenia.", "number_3": "trzy"},
    "en": {"goodbye": "Thank you for calling. Goodbye.", "number_3": "three"},
}
PEAK = 10 ** (generate.PEAK_DBFS / 20) * 32767
BANDS = ((0, 80), (1000, 3400), (3400, 4001))


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getcomptype()) == (1, 2, RATE, "NONE")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def files(data_dir: Path) -> dict[str, float]:
    """Every stored prompt file with its modification time."""
    folder = system_folder(data_dir)
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*.wav"))}


@pytest.mark.parametrize(
    ("text", "voice", "low_s", "high_s"),
    [
        ("trzy", "pl", 0.2, 1.2),
        ("dwadzieścia dwie", "pl", 0.5, 2.0),
        ("Wszyscy nasi konsultanci są teraz zajęci.", "pl", 1.5, 5.0),
        ("three", "en", 0.2, 1.2),
        ("Please hold while we connect you.", "en", 1.0, 4.0),
    ],
)
def test_speech_is_phone_ready(text: str, voice: str, low_s: float, high_s: float) -> None:
    samples = generate.synthesise(text, VOICES[voice])
    assert samples.dtype == np.int16
    assert low_s <= len(samples) / RATE <= high_s
    assert abs(int(np.max(np.abs(samples.astype(np.int32)))) - PEAK) <= 1  # normalised to -3 dBFS
    # trimmed: the sound starts and ends within the 10 ms margin (plus a sample of rounding)
    loud = np.flatnonzero(np.abs(samples) > PEAK / 100)
    assert loud[0] <= RATE // 100 + 1 and len(samples) - 1 - loud[-1] <= RATE // 100 + 1
    # speech: no hum or offset below 80 Hz, formants and consonants above 1 kHz, little above the phone band
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    hz = np.fft.rfftfreq(len(samples), 1 / RATE)
    share = {band: spectrum[(hz >= band[0]) & (hz < band[1])].sum() / spectrum.sum() for band in BANDS}
    assert share[(0, 80)] < 0.01 and share[(1000, 3400)] > 0.05 and share[(3400, 4001)] < 0.05, share


def test_the_whole_catalog_is_made_once_and_then_read(tmp_path: Path) -> None:
    made = load_or_generate(tmp_path)
    expected = {(language, name) for language in SPEECH for name in [*SPEECH[language], *TONES]}
    assert set(made.audio) == expected and made.generated == len(expected) and made.reused == 0
    assert {name for _, name in made.audio} == SYSTEM_NAMES
    for (language, name), samples in made.audio.items():
        stored = read_wav(system_folder(tmp_path) / language / f"{name}.wav")
        assert np.array_equal(stored, samples), (language, name)
        assert len(samples) > RATE // 10 and np.any(samples), (language, name)
    before = files(tmp_path)
    again = load_or_generate(tmp_path)
    assert (again.generated, again.reused) == (0, len(expected))
    assert files(tmp_path) == before  # nothing written again
    assert all(np.array_equal(again.audio[key], made.audio[key]) for key in expected)


def test_a_changed_text_is_made_again_and_only_it(tmp_path: Path) -> None:
    load_or_generate(tmp_path, speech=SMALL)
    before = files(tmp_path)
    changed = {**SMALL, "en": {**SMALL["en"], "goodbye": "Thank you for calling. Bye for now."}}
    again = load_or_generate(tmp_path, speech=changed)
    assert again.generated == 1
    after = files(tmp_path)
    assert [name for name in after if after[name] != before[name]] == ["en/goodbye.wav"]
    manifest = json.loads((system_folder(tmp_path) / "manifest.json").read_text())
    entry = manifest["prompts"]["en/goodbye"]
    assert entry["recipe"]["text"] == "Thank you for calling. Bye for now." and entry["recipe"]["voice"] == "en-gb"
    assert entry["recipe"]["engine"] == generate.engine_id()


def test_damaged_missing_and_stale_files(tmp_path: Path) -> None:
    load_or_generate(tmp_path, speech=SMALL)
    folder = system_folder(tmp_path)
    (folder / "pl" / "goodbye.wav").write_bytes((folder / "pl" / "goodbye.wav").read_bytes()[:-200])  # damaged
    (folder / "en" / "number_3.wav").unlink()
    smaller = {"pl": SMALL["pl"], "en": {"goodbye": SMALL["en"]["goodbye"]}}
    again = load_or_generate(tmp_path, speech=smaller)
    assert again.generated == 1  # pl/goodbye; en/number_3 is no longer in the catalog
    assert read_prompt_file((folder / "pl" / "goodbye.wav").read_bytes()).size == again.audio[("pl", "goodbye")].size
    assert not (folder / "en" / "number_3.wav").exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "en/number_3" not in manifest["prompts"]


def test_a_broken_manifest_means_making_everything_again(tmp_path: Path) -> None:
    load_or_generate(tmp_path, speech=SMALL)
    (system_folder(tmp_path) / "manifest.json").write_text("{not json")
    assert load_or_generate(tmp_path, speech=SMALL).reused == 0


def test_a_manifest_cannot_point_outside_its_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    load_or_generate(data_dir, speech=SMALL)
    victim = tmp_path / "victim.wav"
    victim.write_bytes(b"keep me")
    path = system_folder(data_dir) / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["prompts"]["../../../victim"] = {"recipe": {}, "sha256": ""}
    path.write_text(json.dumps(manifest))
    load_or_generate(data_dir, speech=SMALL)
    assert victim.read_bytes() == b"keep me"


def test_without_espeak_ng_earlier_prompts_are_used_and_new_ones_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_or_generate(tmp_path, speech=SMALL)
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert shutil.which("espeak-ng") is None
    assert load_or_generate(tmp_path, speech=SMALL).reused == 2 * 2 + 2 * len(TONES)
    more = {**SMALL, "pl": {**SMALL["pl"], "number_4": "cztery"}}
    with pytest.raises(generate.EspeakMissing, match=r"install espeak-ng \(Debian/Ubuntu: apt-get install espeak-ng\)"):
        load_or_generate(tmp_path, speech=more)
    with pytest.raises(generate.EspeakMissing):
        generate.synthesise("trzy", VOICES["pl"])


def test_an_unknown_voice_is_a_clear_error() -> None:
    with pytest.raises(generate.SynthesisError, match="voice 'xx-nonexistent'"):
        generate.synthesise("hello", VOICES["en"].__class__("xx-nonexistent"))


def test_a_folder_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    with pytest.raises(generate.PromptError, match="cannot store the system prompts"):
        load_or_generate(blocked, speech=SMALL)


def test_synthesise_many_keeps_keys_and_runs_in_parallel() -> None:
    texts = {(lang, n): (SPEECH[lang][f"number_{n}"], VOICES[lang]) for lang in ("pl", "en") for n in range(10)}
    made = generate.synthesise_many(texts, workers=4)
    assert set(made) == set(texts)
    assert len({m.tobytes() for m in made.values()}) == len(texts)  # twenty different words


def test_music_on_hold_is_a_soft_seamless_loop() -> None:
    music = tones.music_on_hold()
    seconds = len(music) / RATE
    assert 20 <= seconds <= 40
    peak = np.max(np.abs(music.astype(np.int32))) / 32767
    assert abs(20 * np.log10(peak) - tones.MUSIC_PEAK_DBFS) < 0.1
    rms = np.sqrt(np.mean((music / 32767) ** 2))
    assert 20 * np.log10(rms) < -20  # well below speech
    # never silent for long: every half second carries sound
    halves = music[: len(music) // 4000 * 4000].reshape(-1, 4000)
    assert np.all(np.max(np.abs(halves), axis=1) > 0.05 * 32767)
    # seamless: the step from the last sample to the first is no bigger than steps inside the loop
    steps = np.abs(np.diff(music.astype(np.int32)))
    assert abs(int(music[0]) - int(music[-1])) <= np.percentile(steps, 99.9)
    # inside the telephone band
    spectrum = np.abs(np.fft.rfft(music.astype(np.float64))) ** 2
    hz = np.fft.rfftfreq(len(music), 1 / RATE)
    assert spectrum[(hz >= 150) & (hz <= 3400)].sum() > 0.99 * spectrum.sum()
    assert np.array_equal(music, tones.music_on_hold())  # deterministic


def test_beep() -> None:
    beep = tones.beep()
    assert len(beep) == int(0.4 * RATE)
    spectrum = np.abs(np.fft.rfft(beep.astype(np.float64)))
    assert abs(np.argmax(spectrum) * RATE / len(beep) - tones.BEEP_HZ) < 5
    assert abs(beep[0]) < 100 and abs(beep[-1]) < 100  # faded: no click
    with pytest.raises(KeyError):
        tones.synthesise("fanfare")


def test_engine_id_is_a_hash_of_the_espeak_ng_version() -> None:
    assert generate.engine_id() == generate.engine_id()
    assert len(generate.engine_id()) == 16 and int(generate.engine_id(), 16) >= 0
