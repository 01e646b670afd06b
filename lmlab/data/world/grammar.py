"""The probabilistic grammar of the world's language-model text, with exact token probabilities.

The grammar is a program over `tables.Source` (see there): every token is either chosen from a
table of distinct words or forced by the history, so each token sequence has exactly one
derivation and log p(token | history) is the log-probability of the option that produced it.
That makes the cross-entropy floor of any generated text exact (Shannon 1948; the same idea as
scoring a corpus with the true model, cf. Jurafsky & Martin, SLP3 ch. 3, "perplexity").

Frames (the first token reveals which):

    declarative  El médico alto que vive en Sevilla estudia las teorías de cuerdas en el
                 laboratorio , porque él está muy ocupado .
    animal       Las vacas cuidan a sus terneros en la granja .   El potro sigue al caballo .
    long range   Crecí en Francia , luego viajé a Italia , después estudié historia , por eso
                 hablo francés .
    facts        París es la capital de Francia .   En Japón se habla japonés .
    questions    ¿ Dónde viven los jugadores ?   ¿ Cuál es la capital de Grecia ?
    exclamation  ¡ Qué tarta tan rica !

Dependencies at several ranges, so that n-grams, RNNs and Transformers separate:
short (determiner-noun-adjective gender/number agreement, a noun's complement), medium (subject-verb number agreement
across an adjective and a relative clause; the topic of the subject choosing verb, object and
place several words later; pronoun and adjective agreement in the "porque" clause) and long (the
country of "Crecí en X" deciding the language after any number of filler clauses).

Word-specific collocates (each person's verb and adjective, each verb's object, each object's
complement) give every word contexts of its own, shared by its genders and numbers, which is
what lets word2vec solve the world's analogies (see `analogies.py` and docs/world.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmlab.data.world import lexicon as lx
from lmlab.data.world.grammar_config import GrammarConfig
from lmlab.data.world.tables import Source, Table

ARTICLES = {(True, "m", "sg"): "el", (True, "f", "sg"): "la", (True, "m", "pl"): "los",
            (True, "f", "pl"): "las", (False, "m", "sg"): "un", (False, "f", "sg"): "una",
            (False, "m", "pl"): "unos", (False, "f", "pl"): "unas"}
# (token, genders it agrees with, number, kind); "count" determiners are plural only.
DETERMINERS = (
    ("el", "m", "sg", "def"), ("la", "f", "sg", "def"), ("los", "m", "pl", "def"), ("las", "f", "pl", "def"),
    ("un", "m", "sg", "indef"), ("una", "f", "sg", "indef"), ("unos", "m", "pl", "indef"),
    ("unas", "f", "pl", "indef"), ("este", "m", "sg", "dem"), ("esta", "f", "sg", "dem"),
    ("estos", "m", "pl", "dem"), ("estas", "f", "pl", "dem"), ("dos", "mf", "pl", "count"),
    ("tres", "mf", "pl", "count"), ("muchos", "m", "pl", "count"), ("muchas", "f", "pl", "count"),
    ("varios", "m", "pl", "count"), ("varias", "f", "pl", "count"),
)
PRONOUNS = {("m", "sg"): "él", ("f", "sg"): "ella", ("m", "pl"): "ellos", ("f", "pl"): "ellas"}
FILLER_STARTERS = ("luego", "después", "también", "además")
FILLER_VERBS = ("viajé", "trabajé", "estudié", "conocí", "aprendí", "descansé")
LONG_OPENERS = ("crecí", "nací", "viví")


def _zipf(n: int, s: float) -> list[float]:
    return [(i + 1) ** -s for i in range(n)]


def _take(items: Sequence[Any], n: int | None) -> list[Any]:
    return list(items if n is None else items[:n])


def _per_topic(items: Sequence[Any], n: int | None, topics: Sequence[str] | None) -> list[Any]:
    out = []
    for topic in topics or lx.TOPICS:
        out += _take([x for x in items if x.topic == topic], n)
    return out


def _ranked(items: Sequence[Any], s: float) -> list[float]:
    """Zipf weights by rank within each item's topic (lexicon order)."""
    seen: dict[str, int] = {}
    out = []
    for x in items:
        r = seen.get(x.topic, 0)
        seen[x.topic] = r + 1
        out.append((r + 1) ** -s)
    return out


class Grammar:
    """Tables built once from a `GrammarConfig`; `sentence(src)` runs the program on a source."""

    def __init__(self, config: GrammarConfig | None = None) -> None:
        self.config = c = config or GrammarConfig()
        self.countries = _take(lx.COUNTRIES, c.n_countries)
        self.persons = _take(lx.PERSONS, c.n_persons)
        self.animals = _take(lx.ANIMALS, c.n_animals)
        self.objects = _per_topic(lx.OBJECTS, c.n_per_topic, c.topics)
        self.verbs = _per_topic(lx.VERBS, c.n_per_topic, c.topics)
        self.places = _per_topic(lx.PLACES, c.n_per_topic, c.topics)
        self.person_adjs = _take(lx.PERSON_ADJECTIVES, c.n_adjectives)
        self.state_adjs = _take(lx.STATE_ADJECTIVES, c.n_adjectives)
        self.object_adjs = _take(lx.OBJECT_ADJECTIVES, c.n_adjectives)
        # Capitals appear in the frames that name their country (facts, questions, long range);
        # the relative clauses and places use the other cities, so a capital's contexts say which.
        self.cities = _take(lx.CITIES, c.n_cities)
        self.names = [n for n, _ in _take(lx.FIRST_NAMES, c.n_names)]
        self.fields = _take(lx.STUDY_FIELDS, c.n_fields)
        self.infinitives = _take(lx.INFINITIVES, c.n_fields)
        self._cache: dict[Any, Any] = {}
        self._favourites()
        self._build_fixed_tables()

    def _favourites(self) -> None:
        """Each person pair prefers one verb, each verb some objects (by rank within the topic):
        word-specific collocates shared by both genders and numbers of a word."""
        def rank_in_topic(items: Sequence[Any]) -> list[int]:
            seen: dict[str, int] = {}
            out = []
            for x in items:
                out.append(seen.get(x.topic, 0))
                seen[x.topic] = out[-1] + 1
            return out

        verbs_of = {t: [i for i, v in enumerate(self.verbs) if v.topic == t] for t in lx.TOPICS}
        objects_of = {t: [i for i, o in enumerate(self.objects) if o.topic == t] for t in lx.TOPICS}
        # Each person pair gets its own verb: the first unused one of its topic, else of any topic.
        used: set[int] = set()
        self.person_verb = []
        for p in self.persons:
            free = [v for v in verbs_of[p.topic] if v not in used] or \
                   [v for v in range(len(self.verbs)) if v not in used] or [-1]
            self.person_verb.append(free[0])
            used.add(free[0])
        self.verb_objects = [
            {o for k, o in enumerate(objects_of[v.topic]) if k == r}
            for v, r in zip(self.verbs, rank_in_topic(self.verbs), strict=True)]

    # -- tables ------------------------------------------------------------------------------
    def _build_fixed_tables(self) -> None:
        c = self.config
        z = c.zipf
        countries = Table(((k.name, w, i) for i, (k, w) in
                           enumerate(zip(self.countries, _zipf(len(self.countries), z), strict=True))),
                          "país")
        self.t_country = countries
        self.t_country_uniform = Table(((k.name, 1.0, i) for i, k in enumerate(self.countries)), "país")
        capitals = Table(((k.capital, w, i) for i, (k, w) in
                          enumerate(zip(self.countries, _zipf(len(self.countries), z), strict=True))),
                         "capital")
        self.t_country_or_capital = Table.union([(0.6, countries, "país"), (0.4, capitals, "capital")],
                                                "país o capital")
        self.t_city = Table(((name, w, name) for name, w in
                             zip(self.cities, _zipf(len(self.cities), z), strict=True)), "ciudad")
        # Subject nouns: p_animal of the mass goes to animals (adults and young), the rest to people.
        zp, za = _zipf(len(self.persons), z), _zipf(len(self.animals), z)
        wp, wa = (1 - c.p_animal) / (2 * sum(zp)), c.p_animal / sum(za)
        subject_det, self.t_subject_noun = self._noun_phrase(
            [(("person", i, g), g, getattr(p, g + "_sg"), getattr(p, g + "_pl"), w * wp)
             for g in "mf" for i, (p, w) in enumerate(zip(self.persons, zp, strict=True))]
            + [(("animal", i, a.adult.gender), a.adult.gender, a.adult.sg, a.adult.pl, w * wa * (1 - c.p_young))
               for i, (a, w) in enumerate(zip(self.animals, za, strict=True))]
            + [(("young", i, a.young.gender), a.young.gender, a.young.sg, a.young.pl, w * wa * c.p_young)
               for i, (a, w) in enumerate(zip(self.animals, za, strict=True))],
            c.p_plural, "sujeto")
        fact = Table.union([(0.6, capitals, "capital"), (0.4, Table.fixed("en"), "en")], "hecho")
        self.t_top = Table.union([
            (c.w_declarative, subject_det, "decl"),
            (c.w_long, Table((w, 1.0, w) for w in LONG_OPENERS), "long"),
            (c.w_fact, fact, "fact"),
            (c.w_question, Table.fixed("¿"), "question"),
            (c.w_exclamation, Table.fixed("¡"), "exclamation"),
        ], "inicio")
        # Questions: "¿ Dónde vive el médico ?" picks the number with the verb, then the subject.
        self.t_wh = Table([("qué", 0.4, "qué"), ("cuál", 0.3, "cuál"), ("dónde", 0.3, "dónde")], "pregunta")
        self.t_where_verb = Table([("vive", 1 - c.p_plural, "sg"), ("viven", c.p_plural, "pl")], "vive")
        self.t_where_det = {n: Table(((ARTICLES[True, g, n], 0.5, g) for g in "mf"), "artículo")
                            for n in ("sg", "pl")}
        # Exclamations: "¡ Qué tarta tan rica !"
        self.t_excl_noun = Table(((o.sg, w, (i, o.gender)) for i, (o, w) in
                                  enumerate(zip(self.objects, _ranked(self.objects, z), strict=True))), "objeto")
        self.t_fact_verb = Table([("es", 0.6, "es"), ("está", 0.4, "está")], "es/está")
        self.t_animal_end = Table([("en", c.p_habitat, "en"), (".", 1 - c.p_habitat, ".")], "fin")
        self.t_object_end = Table([("en", c.p_place, "en"), (",", c.p_because, ","),
                                   (".", 1 - c.p_place - c.p_because, ".")], "fin")
        self.t_place_end = Table([(",", c.p_because, ","), (".", 1 - c.p_because, ".")], "fin")
        self.t_copula = {"sg": Table([("está", 0.6, "state"), ("es", 0.4, "character")], "está/es"),
                         "pl": Table([("están", 0.6, "state"), ("son", 0.4, "character")], "está/es")}
        self.t_starter = Table(((s, w, s) for s, w in
                                zip(FILLER_STARTERS, _zipf(len(FILLER_STARTERS), z), strict=True)),
                               "conector")
        self.t_filler_verb = Table(((v, w, v) for v, w in
                                    zip(FILLER_VERBS, _zipf(len(FILLER_VERBS), z), strict=True)), "verbo")
        self.t_worked = Table([("en", 0.6, "en"), ("mucho", 0.4, "mucho")], "trabajé")
        self.t_names = Table(((n, w, n) for n, w in zip(self.names, _zipf(len(self.names), z), strict=True)),
                             "nombre")
        self.t_fields = Table(((f, w, f) for f, w in zip(self.fields, _zipf(len(self.fields), z), strict=True)),
                              "estudios")
        self.t_infinitives = Table(((f, w, f) for f, w in
                                    zip(self.infinitives, _zipf(len(self.infinitives), z), strict=True)),
                                   "infinitivo")
        self.t_filler_or_end = [
            Table.union([(c.p_filler if k < c.max_filler else 0.0, self.t_starter, "fill"),
                         (1 - c.p_filler if k < c.max_filler else 1.0, Table.fixed("por"), "end")],
                        "relleno")
            for k in range(c.max_filler + 1)]

    def _noun_phrase(self, nouns: list[tuple[Any, str, str, str, float]], p_plural: float,
                     name: str, kinds: tuple[str, ...] = ("def", "indef", "dem", "count")
                     ) -> tuple[Table, dict[tuple[str, str], Table]]:
        """Determiner table and noun tables, factorising P(determiner, noun) exactly.

        A determiner reveals the number and the gender(s) it agrees with ("dos" agrees with both),
        so the noun table after it is keyed by (genders, number).

        Args:
            nouns: (payload, gender, singular, plural, weight) rows.
            kinds: determiner kinds allowed (see DETERMINERS).
        Returns:
            the determiner table (payload (genders, number)) and {(genders, number): noun table}.
        """
        c = self.config
        p_kind = {"def": 1 - c.p_indefinite - c.p_demonstrative, "indef": c.p_indefinite,
                  "dem": c.p_demonstrative}
        p_kind = {k: v for k, v in p_kind.items() if k in kinds}
        total = sum(p_kind.values())
        rows = []
        for token, genders, n, kind in DETERMINERS:
            if kind not in kinds:
                continue
            p_n = p_plural if n == "pl" else 1 - p_plural
            if kind == "count":
                p = c.p_count / 4 if n == "pl" else 0.0
            else:
                p = p_kind[kind] / total * ((1 - c.p_count) if n == "pl" and "count" in kinds else 1.0)
            w = sum(row[4] for row in nouns if row[1] in genders) * p_n * p
            rows.append((token, w, (genders, n)))
        det = Table(rows, f"determinante ({name})")
        tables = {}
        for genders, n in {pay for _, w, pay in rows if w > 0}:
            tables[genders, n] = Table(((row[2] if n == "sg" else row[3], row[4], row[0])
                                        for row in nouns if row[1] in genders), name)
        return det, tables

    def _cached(self, key: Any, build) -> Any:
        t = self._cache.get(key)
        if t is None:
            t = self._cache[key] = build()
        return t

    def _adj_table(self, adjs: list[lx.Adjective], g: str, n: str, name: str, owner: int) -> Table:
        """Adjectives agreeing in (g, n); the owner noun's favourite (owner % len) weighs more."""
        fav = owner % len(adjs)
        f = self.config.favourite
        return self._cached(("adj", name, g, n, fav), lambda: Table(
            ((a.form(g, n), w * (f if i == fav else 1.0), i) for i, (a, w) in
             enumerate(zip(adjs, _zipf(len(adjs), self.config.zipf), strict=True))), name))

    def _verb_table(self, person: int, n: str) -> Table:
        a, f = self.config.topic_affinity, self.config.favourite
        topic, fav = self.persons[person].topic, self.person_verb[person]

        def build() -> Table:
            return Table(((v.sg if n == "sg" else v.pl,
                           w * (a if v.topic == topic else 1.0) * (f if i == fav else 1.0), i)
                          for i, (v, w) in enumerate(zip(self.verbs, _ranked(self.verbs, self.config.zipf),
                                                         strict=True))), "verbo")
        return self._cached(("verb", person, n), build)

    def _after_subject(self, person: int, g: str, n: str) -> Table:
        c = self.config
        return self._cached(("after_subject", person, g, n), lambda: Table.union([
            (c.p_adjective, self._adj_table(self.person_adjs, g, n, "adjetivo", person), "adj"),
            (c.p_relative, Table.fixed("que"), "rel"),
            (1 - c.p_adjective - c.p_relative, self._verb_table(person, n), "verb")], "tras el sujeto"))

    def _after_adjective(self, person: int, n: str) -> Table:
        c = self.config
        p_rel = c.p_relative / (1 - c.p_adjective) if c.p_adjective < 1 else 0.0
        return self._cached(("after_adj", person, n), lambda: Table.union([
            (p_rel, Table.fixed("que"), "rel"), (1 - p_rel, self._verb_table(person, n), "verb")],
            "tras el adjetivo"))

    def _object_phrase(self, topic: str, verb: int) -> tuple[Table, dict]:
        a, c = self.config.topic_affinity, self.config
        vt = self.verbs[verb].topic

        def build():
            weights = _ranked(self.objects, c.zipf)
            favs = self.verb_objects[verb]
            rows = [(i, o.gender, o.sg, o.pl, w * (a if o.topic == vt else 1.0)
                     * (a ** 0.5 if o.topic == topic else 1.0) * (c.favourite if i in favs else 1.0))
                    for i, (o, w) in enumerate(zip(self.objects, weights, strict=True))]
            return self._noun_phrase(rows, c.p_plural, "objeto")
        return self._cached(("object", topic, verb), build)

    def _after_object(self, obj: int, g: str, n: str, complement: bool) -> Table:
        """Adjective, "de" + the object's complement (once), or the end of the object phrase."""
        c = self.config
        p_de = c.p_complement if complement else 0.0
        return self._cached(("after_object", obj, n, complement), lambda: Table.union([
            (c.p_object_adjective, self._adj_table(self.object_adjs, g, n, "adjetivo de objeto", obj), "adj"),
            (p_de, Table.fixed("de"), "de"),
            (1 - c.p_object_adjective - p_de, self.t_object_end, "end")], "tras el objeto"))

    def _place(self, topic: str) -> tuple[Table, dict]:
        c = self.config

        def build():
            weights = _ranked(self.places, c.zipf)
            rows = [(i, p.gender, p.sg, p.pl, w * (c.topic_affinity if p.topic == topic else 1.0))
                    for i, (p, w) in enumerate(zip(self.places, weights, strict=True))]
            det, nouns = self._noun_phrase(rows, 0.0, "lugar", kinds=("def",))
            return Table.union([(c.p_city, self.t_city, "city"), (1 - c.p_city, det, "place")], "lugar"), nouns
        return self._cached(("place", topic), build)

    # -- the program -------------------------------------------------------------------------
    def sentence(self, src: Source) -> str:
        """Run the grammar on `src` (sampling, reading or enumerating); returns the frame name."""
        frame, value = src.pick(self.t_top)
        if frame == "decl":
            n = value[1]
            kind, i, g = src.pick(self.t_subject_noun[value])
            if kind == "person":
                self._declarative(src, i, g, n)
            else:
                self._animal(src, kind, i, n)
                frame = "animal"
        elif frame == "long":
            self._long(src)
        elif frame == "fact":
            self._fact(src, value)
        elif frame == "question":
            self._question(src)
        else:
            src.emit("qué")
            obj, g = src.pick(self.t_excl_noun)
            src.emit("tan")
            src.pick(self._adj_table(self.object_adjs, g, "sg", "adjetivo de objeto", obj))
            src.emit("!")
        src.finish()
        return frame

    def _declarative(self, src: Source, person: int, g: str, n: str) -> None:
        topic = self.persons[person].topic
        tag, verb = src.pick(self._after_subject(person, g, n))
        if tag == "adj":
            tag, verb = src.pick(self._after_adjective(person, n))
        if tag == "rel":
            src.emit("vive" if n == "sg" else "viven", "en")
            src.pick(self.t_city)
            verb = src.pick(self._verb_table(person, n))
        det, nouns = self._object_phrase(topic, verb)
        on = src.pick(det)
        obj = src.pick(nouns[on])
        o = self.objects[obj]
        tag, end = src.pick(self._after_object(obj, o.gender, on[1], True))
        if tag == "de":
            src.emit(lx.COMPLEMENTS[o.sg][0])
            tag, end = src.pick(self._after_object(obj, o.gender, on[1], False))
        if tag == "adj":
            end = src.pick(self.t_object_end)
        if end == "en":
            table, nouns = self._place(topic)
            tag, value = src.pick(table)
            if tag == "place":
                src.pick(nouns[value])
            end = src.pick(self.t_place_end)
        if end == ",":
            src.emit("porque", PRONOUNS[g, n])
            kind = src.pick(self.t_copula[n])
            src.emit("muy")
            adjs = self.state_adjs if kind == "state" else self.person_adjs
            src.pick(self._adj_table(adjs, g, n, "adjetivo de " + kind, person))
            src.emit(".")

    def _animal(self, src: Source, kind: str, i: int, n: str) -> None:
        """Adults care for their young or do what their species does; the young follow the adults."""
        a = self.animals[i]
        sg = n == "sg"
        verb = src.pick(self._animal_verb(kind, i, n))
        if verb == "sigue":
            art = ARTICLES[True, a.adult.gender, n]
            src.emit(*(["al"] if art == "el" else ["a", art]), a.adult.sg if sg else a.adult.pl)
        elif verb == "cuida":
            src.emit("a", "su" if sg else "sus", a.young.sg if sg else a.young.pl)
        elif verb == "y":  # "La vaca y su ternero viven ...": a plural compound subject
            src.emit("su" if sg else "sus", a.young.sg if sg else a.young.pl, "viven")
        if src.pick(self.t_animal_end) == "en":
            h = lx.HABITATS[a.habitat]
            src.emit(ARTICLES[True, h.gender, "sg"], h.sg, ".")

    def _animal_verb(self, kind: str, i: int, n: str) -> Table:
        """Adults: "cuida a su <cría>", "y su <cría> viven" or the species' verb; the young:
        "sigue a la <adulto>" or the species' verb."""
        a, c = self.animals[i], self.config
        sound = a.sound[0] if n == "sg" else a.sound[1]
        if kind == "young":
            rows = [("sigue" if n == "sg" else "siguen", 0.5, "sigue"), (sound, 0.5, "sound")]
        else:
            rows = [("cuida" if n == "sg" else "cuidan", c.p_care, "cuida"), ("y", c.p_with, "y"),
                    (sound, 1 - c.p_care - c.p_with, "sound")]
        return self._cached(("animal_verb", kind, i, n), lambda: Table(rows, "verbo de animal"))

    def _long(self, src: Source) -> None:
        src.emit("en")
        k = src.pick(self.t_country)
        src.emit(",")
        n_clauses = 0
        while src.pick(self.t_filler_or_end[n_clauses])[0] == "fill":
            self.filler_clause(src)
            n_clauses += 1
        src.emit("eso", "hablo", self.countries[k].language, ".")

    def filler_clause(self, src: Source) -> None:
        """The rest of one filler clause after its connector ("luego", ...), with its comma."""
        verb = src.pick(self.t_filler_verb)
        if verb == "viajé":
            src.emit("a")
            src.pick(self.t_country_uniform)
        elif verb == "trabajé":
            if src.pick(self.t_worked) == "en":
                src.pick(self.t_city)
        elif verb == "estudié":
            src.pick(self.t_fields)
        elif verb == "conocí":
            src.emit("a")
            src.pick(self.t_names)
        elif verb == "aprendí":
            src.emit("a")
            src.pick(self.t_infinitives)
        src.emit(",")

    def _fact(self, src: Source, value: tuple[str, Any]) -> None:
        tag, k = value
        if tag == "capital":
            if src.pick(self.t_fact_verb) == "es":
                src.emit("la", "capital", "de", self.countries[k].name, ".")
            else:
                src.emit("en", self.countries[k].name, ".")
        else:
            _, k = src.pick(self.t_country_or_capital)
            src.emit("se", "habla", self.countries[k].language, ".")

    def _question(self, src: Source) -> None:
        wh = src.pick(self.t_wh)
        if wh == "qué":
            src.emit("idioma", "se", "habla", "en")
            src.pick(self.t_country_or_capital)
        elif wh == "cuál":
            src.emit("es", "la", "capital", "de")
            src.pick(self.t_country)
        else:
            n = src.pick(self.t_where_verb)
            g = src.pick(self.t_where_det[n])
            src.pick(self._where_noun(g, n))
        src.emit("?")

    def _where_noun(self, g: str, n: str) -> Table:
        def build() -> Table:
            ws = _zipf(len(self.persons), self.config.zipf)
            return Table(((getattr(p, f"{g}_{n}"), w, i) for i, (p, w) in
                          enumerate(zip(self.persons, ws, strict=True))), "persona")
        return self._cached(("where", g, n), build)
