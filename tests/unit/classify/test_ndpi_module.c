/*
 * test_ndpi_module.c - nDPI modules built in an arena, and copies of them.
 * A copy is only as good as the image it copies: two modules built one
 * after the other must be the same image but for pointers into their own
 * arenas (each at the same place in both), and a copy must be that image
 * too, at its own address, with nothing left pointing into the original.
 * This is what ndpi_module.c's IMAGE_CHECKED claims for nDPI 4.2. A copy is
 * the first module's struct only, at its own address, reading its tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "classify/ndpi_module.h"

typedef struct {
    size_t pointers; /* words that point into their image, at the same offset in both */
    size_t others;   /* words that differ otherwise: the images are not the same */
    size_t foreign;  /* words of b that point into a third image (the one it was copied from) */
} image_diff_t;

static int inside(uint64_t word, uintptr_t base, size_t bytes)
{
    return word >= base && word <= base + bytes;
}

static image_diff_t diff_images(
        const mw_dpi_module_t *a, const mw_dpi_module_t *b, const mw_dpi_module_t *origin)
{
    size_t na, nb, no = 0, off;
    const uint8_t *ia = mw_dpi_module_image(a, &na), *ib = mw_dpi_module_image(b, &nb);
    const uint8_t *io = origin != NULL ? mw_dpi_module_image(origin, &no) : NULL;
    image_diff_t d = { 0, 0, 0 };

    assert_non_null(ia);
    assert_non_null(ib);
    assert_int_equal(na, nb);
    for (off = 0; off + 8 <= na; off += 8) {
        uint64_t wa, wb;
        memcpy(&wa, ia + off, 8);
        memcpy(&wb, ib + off, 8);
        if (io != NULL && inside(wb, (uintptr_t)io, no))
            d.foreign++;
        if (inside(wa, (uintptr_t)ia, na) && inside(wb, (uintptr_t)ib, nb) &&
                wa - (uintptr_t)ia == wb - (uintptr_t)ib)
            d.pointers++;
        else if (wa != wb)
            d.others++;
    }
    return d;
}

static void test_builds_are_one_image_and_copies_too(void **state)
{
    mw_dpi_module_t *a = mw_dpi_module_build(), *b = mw_dpi_module_build(), *c;
    size_t bytes, cbytes, off, own = 0, shared = 0, foreign = 0, others = 0;
    const uint8_t *ia, *ic, *sa;
    uint64_t hash;
    image_diff_t d;
    (void)state;

    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(ia = mw_dpi_module_image(a, &bytes));
    assert_true(bytes > (1u << 20)); /* the IP lists' trees: 5.3 MB with nDPI 4.2 */
    d = diff_images(a, b, NULL);
    assert_int_equal(d.others, 0);
    assert_true(d.pointers > 10000);
    print_message("two builds: one image of %zu bytes but for %zu pointers into their arenas\n",
            bytes, d.pointers);

    /* a copy: the first module's struct, pointers into itself moved to its own, every other
     * word the same (so it reads the first module's tables) */
    hash = mw_dpi_module_tables_hash(a);
    assert_true(hash != 0);
    c = mw_dpi_module_copy(a);
    assert_non_null(c); /* nDPI 4.2, whose image this test checks */
    assert_non_null(ic = mw_dpi_module_image(c, &cbytes));
    assert_ptr_equal(ic, mw_dpi_module_ndpi(c));
    assert_true(cbytes > 4096 && cbytes < bytes / 4); /* 240 kB with nDPI 4.2 */
    sa = (const uint8_t *)mw_dpi_module_ndpi(a);
    for (off = 0; off + 8 <= cbytes; off += 8) {
        uint64_t wa, wc;
        memcpy(&wa, sa + off, 8);
        memcpy(&wc, ic + off, 8);
        if (inside(wa, (uintptr_t)sa, cbytes - 1) && wc - (uintptr_t)ic == wa - (uintptr_t)sa)
            own++;
        else if (wa != wc)
            others++;
        else if (inside(wc, (uintptr_t)ia, bytes))
            shared++;
        foreign += inside(wc, (uintptr_t)sa, cbytes - 1);
    }
    assert_int_equal(others, 0);
    assert_int_equal(foreign, 0);
    assert_true(shared > 100);
    print_message("a copy: its own struct of %zu bytes, %zu pointers into itself, %zu into the "
                  "tables it shares\n",
            cbytes, own, shared);
    /* the original goes first (as a run's first worker may): the copy touches nothing of
     * its tables when freed (ASan); nor did copying change them */
    assert_true(mw_dpi_module_tables_hash(a) == hash);
    mw_dpi_module_free(a);
    mw_dpi_module_free(b);
    mw_dpi_module_free(c);
    mw_dpi_module_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builds_are_one_image_and_copies_too),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
