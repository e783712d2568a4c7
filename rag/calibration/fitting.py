"""The three logistic regressions and the candidate ranking of ``rag.answer_model``, fitted on labelled questions."""

from __future__ import annotations

from rag.answer import decide, sentence_inputs
from rag.answer_model import AnswerModel, LinearModel
from rag.calibration.questions import Labelled, answerable_sentences, right_sentence
from rag.evaluation.metrics import best_f1
from rag.evidence import answerable_features

CHOICE_C = 0.1  # the candidate ranking's regularisation (held-out short-answer F1 was best near it)


def _fit(rows: list[dict[str, float]], labels: list[int], c: float = 1.0, intercept: bool = True) -> LinearModel:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    if not rows or len(set(labels)) < 2:
        return LinearModel({}, 0.0)
    vectoriser = DictVectorizer()
    x = vectoriser.fit_transform(rows)
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", fit_intercept=intercept)
    model.fit(x, labels)
    coef = dict(zip(vectoriser.get_feature_names_out(), model.coef_[0].tolist(), strict=True))
    return LinearModel(coef, float(model.intercept_[0]) if intercept else 0.0)


def fit_choice(cases: list[Labelled]) -> LinearModel:
    """A ranking of one sentence's candidates: the best-matching candidate against each one that misses.

    Fitted on differences of features (both orders), so only what tells candidates of the same
    sentence apart carries weight; ``logit`` then orders candidates, it is not a probability.
    """
    rows, labels = [], []
    for case in cases:
        for sentence in answerable_sentences(case):
            if not right_sentence(case, sentence):
                continue
            graded = [(best_f1(candidate.text, case.answers), features) for candidate, features in sentence.spans]
            top_f1, top = max(graded, key=lambda pair: pair[0], default=(0.0, {}))
            if top_f1 < 0.5:
                continue
            for f1, features in graded:
                if f1 < 0.5:
                    difference = {k: top.get(k, 0.0) - features.get(k, 0.0) for k in top.keys() | features.keys()}
                    rows += [difference, {k: -v for k, v in difference.items()}]
                    labels += [1, 0]
    return _fit(rows, labels, c=CHOICE_C, intercept=False)


def fit(cases: list[Labelled], threshold: float = 0.5, span_threshold: float = 0.0, fitted_on: str = "") -> AnswerModel:
    """The three models, each fitted on the rows of ``cases`` that teach it."""
    span_rows, span_labels = [], []
    for case in cases:
        for sentence in answerable_sentences(case):
            if sentence.scored.sentence.source in case.sources:
                for candidate, features in sentence.spans:
                    span_rows.append(features)
                    span_labels.append(int(best_f1(candidate.text, case.answers) >= 0.5))
    span = _fit(span_rows, span_labels)
    sentence_rows, sentence_labels = [], []
    for case in cases:
        if sentences := answerable_sentences(case):
            sentence_rows += sentence_inputs(case.evidence, span)
            sentence_labels += [int(right_sentence(case, sentence)) for sentence in sentences]
    sentence_model = _fit(sentence_rows, sentence_labels)
    partial = AnswerModel(span, sentence_model, LinearModel({}, 0.0), 0.0, span_threshold)
    answer_rows, answer_labels = [], []
    for case in cases:
        if case.evidence and case.evidence.sentences:
            ranked = decide(case.evidence, partial).ranked
            answer_rows.append(answerable_features(case.evidence.question, ranked))
            answer_labels.append(int(case.answerable))
    answerable = _fit(answer_rows, answer_labels, c=0.5)
    return AnswerModel(span, sentence_model, answerable, threshold, span_threshold, fitted_on, fit_choice(cases))
