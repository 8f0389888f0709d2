// The catalogue's additions to mdBook (book.toml: additional-js).
//
// 1. Doc comments in the included Rust read as rustdoc renders them: "[`Guarded`]" shows as
//    "`Guarded`", and a markdown link shows as its text. The source keeps its intra-doc
//    links; the reader is spared their syntax.
// 2. Each `.side-by-side` pair is laid out in two columns when both code blocks fit in half
//    the width, and stacked otherwise. Without JavaScript the pair is stacked, which always
//    reads.
// 3. The asyncio → tokio tables are marked `map`, so their cells break only between words.
// 4. Each page links to the same page in the other edition: the English book at the root,
//    the Japanese one under ja/ (docs/book.toml). The link keeps the reader's place: a
//    translated heading keeps its English id.
//
// When both are done, `<html data-catalogue="ready">` tells tests/tests/book.rs to look.
(function () {
    "use strict";

    const DOC_LINKS = [
        // [`Name`], [`Name`](path), [`Name`][reference]
        [/\[(`[^`\]]+`)\](?:\([^)\s]*\)|\[[^\]]*\])?/g, "$1"],
        // [text](target)
        [/\[([^\]]+)\]\([^)\s]+\)/g, "$1"],
    ];

    function renderDocLinks() {
        for (const comment of document.querySelectorAll("code.language-rust .hljs-comment")) {
            const walker = document.createTreeWalker(comment, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                let text = node.nodeValue;
                for (const [pattern, replacement] of DOC_LINKS) {
                    text = text.replace(pattern, replacement);
                }
                node.nodeValue = text;
            }
        }
    }

    function fits(pair) {
        return Array.from(pair.querySelectorAll("pre code")).every(
            (code) => code.scrollWidth <= code.clientWidth
        );
    }

    // The last column of the asyncio → tokio tables, in each edition.
    const MAP_COLUMN = ["shown in", "章"];

    // The asyncio → tokio tables (a last column "shown in") keep their words whole; other
    // tables, such as the wide benchmark tables, may break a word to fit the column.
    function markMapTables() {
        for (const table of document.querySelectorAll("main table")) {
            const last = table.querySelector("thead th:last-child");
            if (last && MAP_COLUMN.includes(last.textContent.trim())) {
                table.classList.add("map");
            }
        }
    }

    // This page's path below the book's root, from mdBook's `path_to_root` ("../" once per
    // folder), then the same page in the other edition.
    function addLanguageSwitch() {
        const buttons = document.querySelector("#mdbook-menu-bar .right-buttons");
        if (!buttons || typeof path_to_root !== "string") {
            return;
        }
        const japanese = document.documentElement.lang === "ja";
        const depth = (path_to_root.match(/\.\.\//g) || []).length;
        const page = location.pathname.split("/").slice(-(depth + 1)).join("/") || "index.html";
        const link = document.createElement("a");
        link.className = "language-switch";
        link.href = path_to_root + (japanese ? "../" : "ja/") + page;
        link.hreflang = japanese ? "en" : "ja";
        link.lang = link.hreflang;
        link.textContent = japanese ? "English" : "日本語";
        link.title = japanese ? "Read this page in English" : "このページを日本語で読む";
        link.addEventListener("click", () => {
            link.hash = location.hash;
        });
        buttons.prepend(link);
    }

    function layOut() {
        for (const pair of document.querySelectorAll(".side-by-side")) {
            pair.classList.add("wide");
            if (!fits(pair)) {
                pair.classList.remove("wide");
            }
        }
    }

    let pending = null;
    window.addEventListener("resize", () => {
        cancelAnimationFrame(pending);
        pending = requestAnimationFrame(layOut);
    });
    // After highlighting and fonts, which both change what the code looks like.
    window.addEventListener("load", () => {
        renderDocLinks();
        markMapTables();
        addLanguageSwitch();
        const fonts = document.fonts ? document.fonts.ready : Promise.resolve();
        fonts.then(() => {
            layOut();
            document.documentElement.dataset.catalogue = "ready";
        });
    });
})();
