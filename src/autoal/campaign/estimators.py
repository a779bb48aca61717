"""A scikit-learn estimator as a campaign's model: by class name or as a pickled estimator.

``--model sklearn:LogisticRegression`` names any scikit-learn classifier with
``predict_proba`` (built with its defaults, and ``random_state`` set to the round's seed when
it has one); ``--model path/to/estimator.pkl`` loads a pickled (unfitted or fitted)
estimator, which is cloned and refit every round. Only open pickles you made yourself:
loading a pickle runs code. The model's evidence is its class probabilities, so it serves the
strategies that need nothing else (``margin``, ``entropy``, ``least_confidence``, ``random``).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from autoal.campaign.errors import CampaignError

__all__ = ["PICKLE_PREFIX", "PROVIDED_SKLEARN", "SKLEARN_PREFIX", "is_sklearn_model",
           "make_estimator", "resolve_model"]

SKLEARN_PREFIX = "sklearn:"
PICKLE_PREFIX = "pickle:"
#: Evidence fields a scikit-learn model provides.
PROVIDED_SKLEARN = frozenset({"probs"})
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")


def is_sklearn_model(model: str) -> bool:
    """Whether a campaign's ``model`` setting names a scikit-learn estimator."""
    return model.startswith((SKLEARN_PREFIX, PICKLE_PREFIX))


def _classifier_class(name: str) -> type:
    from sklearn.utils import all_estimators

    found = dict(all_estimators(type_filter="classifier"))
    if name not in found:
        close = sorted(n for n in found if n.lower() == name.lower())
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise CampaignError(f"--model {SKLEARN_PREFIX}{name}: no scikit-learn classifier of "
                            f"that name{hint}")
    return found[name]


def _load_pickle(path: str) -> Any:
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)  # noqa: S301 - the user's own estimator, documented
    except FileNotFoundError:
        raise CampaignError(f"--model {path}: no such file") from None
    except Exception as err:  # a pickle can raise anything
        raise CampaignError(f"--model {path}: cannot unpickle it ({err})") from None


def make_estimator(model: str, seed: int) -> Any:
    """An unfitted estimator for a ``model`` setting (see :func:`resolve_model`)."""
    from sklearn.base import clone

    if model.startswith(SKLEARN_PREFIX):
        est = _classifier_class(model[len(SKLEARN_PREFIX):])()
    else:
        est = clone(_load_pickle(model[len(PICKLE_PREFIX):]))
    if "random_state" in est.get_params():
        est.set_params(random_state=seed)
    return est


def resolve_model(model: str) -> str | None:
    """The stored setting for a scikit-learn ``model`` option, checked; None for others.

    ``sklearn:Name`` stays as it is; a path ending in ``.pkl``, ``.pickle`` or ``.joblib``
    becomes ``pickle:/absolute/path``.

    Raises
    ------
    CampaignError
        Unknown class, a pickle that cannot be read or is not a classifier, or an estimator
        without ``predict_proba``.
    """
    if model.startswith(SKLEARN_PREFIX):
        setting = model
    elif model.lower().endswith(_PICKLE_SUFFIXES) or model.startswith(PICKLE_PREFIX):
        raw = model[len(PICKLE_PREFIX):] if model.startswith(PICKLE_PREFIX) else model
        setting = PICKLE_PREFIX + str(Path(os.path.expanduser(raw)).resolve())
    else:
        return None
    est = make_estimator(setting, 0)
    from sklearn.base import is_classifier

    if not (is_classifier(est) and hasattr(est, "fit")):
        raise CampaignError(f"--model {model}: {type(est).__name__} is not a scikit-learn "
                            "classifier")
    if not hasattr(est, "predict_proba"):
        raise CampaignError(f"--model {model}: {type(est).__name__} has no predict_proba "
                            "(the strategies need class probabilities; e.g. SVC needs "
                            "probability=True: pickle such an estimator)")
    return setting
