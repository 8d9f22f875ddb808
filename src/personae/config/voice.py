"""Voice-of-the-customer settings (part of :class:`personae.config.Settings`, under ``voice:``).

Every threshold an analyst might argue about lives here with its default and the reason for it,
so ``personae.yaml`` (or ``PERSONAE_VOICE__…`` variables) can change it without touching code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator


class VoiceSettings(BaseModel):
    """Sentiment, language, themes and the voice traits."""

    sentiment_model: Literal["model", "lexicon"] = Field(
        "model",
        description="'model': the trained sentiment model (shipped, or taught on your labels by "
        "`voice labels` and scored texts; label = its most probable class). 'lexicon': VADER with "
        "the retail lexicon and the two thresholds below (the scorer before the model).",
    )
    positive_threshold: float = Field(
        0.05,
        description="With sentiment_model 'lexicon': a text is positive when its score (−1…1) is at "
        "least this. 0.05 is the threshold VADER's authors validated.",
    )
    negative_threshold: float = Field(
        -0.05,
        description="With sentiment_model 'lexicon': a text is negative when its score is at most this.",
    )
    default_language: str = Field(
        "en",
        description="The language sentiment and themes are built for. Texts detected in another "
        "language are flagged (language column) and left unscored rather than mis-scored.",
    )
    languages: list[str] = Field(
        default_factory=lambda: ["en", "es", "fr", "de", "it", "pt", "nl"],
        description="Languages the detector chooses between (ISO 639-1). A short list of the "
        "languages your customers write in is faster and more accurate than all 97.",
    )
    min_language_confidence: float = Field(
        0.9,
        ge=0,
        le=1,
        description="A text is only flagged as another language when the detector is at least this "
        "sure; below it the default language is kept (short texts such as 'ok' are ambiguous).",
    )
    min_words_to_detect: int = Field(
        3,
        ge=1,
        description="Texts with fewer words are taken to be in the default language: no detector "
        "is reliable on one or two words.",
    )
    n_themes: int = Field(8, ge=2, le=50, description="Themes to discover (NMF components).")
    fit_sample: int = Field(
        50_000,
        ge=100,
        description="Distinct texts the theme model is fitted on (a seeded sample when there are "
        "more); every text is then assigned with the fitted model.",
    )
    min_theme_weight: float = Field(
        0.05,
        ge=0,
        description="A text whose strongest theme loading is below this gets no theme ('other'): "
        "it shares no keyword with any theme.",
    )
    theme_keywords: int = Field(8, ge=3, le=30, description="Keywords kept per theme.")
    seed: int = Field(0, description="Seed of the theme fit (and its sample): same data, same themes.")
    window_days: int = Field(90, ge=1, description="Window of sentiment_90d (and negative_texts_90d).")
    complaint_window_days: int = Field(
        365, ge=1, description="Window in which top_complaint_theme counts a customer's negative texts."
    )
    competitors: list[str] = Field(
        default_factory=lambda: ["Amazon", "Zalando", "Decathlon", "Walmart", "Target", "eBay"],
        description="Competitor names; mentions_competitor is true when a customer's text names one "
        "(whole words, any case), and they are never theme words. Replace with your own competitors.",
    )
    own_names: list[str] = Field(
        default_factory=list,
        description="Your own brand and company names (e.g. 'Acme', 'Acme Air'): never a theme "
        "word. Words used as @handles in the texts and words in more than half of them are left "
        "out anyway.",
    )
    n_jobs: int = Field(
        1,
        ge=1,
        description="Processes scoring sentiment (VADER is pure Python: 2 halves the time of a "
        "large first build; later builds reuse nothing, so keep it at the cores you can spare).",
    )
    examples: int = Field(3, ge=0, le=20, description="Example texts shown per theme.")

    @field_validator("languages")
    @classmethod
    def _lower(cls, v: list[str]) -> list[str]:
        return [x.strip().lower() for x in v if x.strip()]
